/**
 * Phone-facing HTTP: config files at the root path (GET/HEAD) and Poly's PUT
 * uploads (`<mac>-app.log`, `<mac>-boot.log`, `<mac>-phone.cfg`,
 * `<mac>-directory.xml`, ...), both behind the shared pipeline's rules.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import { normalizeMac } from '../core/model.js';
import type { AcceptedCredential, AuthCheck, FileRequest, PipelineStore, ProvisioningPipeline, ServedFile } from './provisioning-pipeline.js';
import { sanitizeFileName } from './provisioning-pipeline.js';
import { DigestAuthority, parseDigestAuthorization } from './http-digest-auth.js';
import { FailureLimiter } from './rate-limiter.js';
import type { Logger } from './logger.js';
import { sendError } from './http-respond.js';
import { recordFetch, since } from './metrics.js';

/** Poly upload names: `<mac>-<what>` with a known suffix. */
const UPLOAD_RE = /^([0-9a-fA-F]{12})-(app\.log|boot\.log|phone\.cfg|web\.cfg|directory\.xml|calls\.xml|license\.cfg)$/;

export interface ProvisioningHttpOptions {
  readonly pipeline: ProvisioningPipeline;
  readonly store: PipelineStore;
  readonly digest: DigestAuthority;
  readonly dataDir: string;
  readonly clock: () => number;
  readonly log: Logger;
  readonly limiter: FailureLimiter;
  /** Upload size limit in bytes (default 1 MiB). */
  readonly maxUploadBytes?: number;
}

/** The remote address without the IPv4-mapped prefix. */
export function remoteAddressOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Path (without query) exactly as sent: what digest `uri` must match. */
function requestTarget(req: IncomingMessage): { path: string; target: string } {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return { path: q >= 0 ? target.slice(0, q) : target, target };
}

/**
 * The request's digest check. Nonces are bound to the requester's address and
 * a nonce count is accepted once, so the verdict for one credential is kept
 * for the rest of this request (the pipeline may ask twice: enrolment, then
 * authorisation).
 */
function digestCheck(req: IncomingMessage, digest: DigestAuthority, now: number): AuthCheck {
  const verdicts = new Map<string, 'ok' | 'stale' | 'bad'>();
  return (accepted) => {
    const header = req.headers.authorization;
    if (!header) return { status: 'missing' };
    const creds = parseDigestAuthorization(header);
    if (!creds) return { status: 'bad' };
    const { target } = requestTarget(req);
    for (const a of accepted) {
      if (creds.username !== a.username) continue;
      const key = `${a.username}\0${a.password}`;
      const v = verdicts.get(key) ?? digest.verify(creds, req.method ?? 'GET', target, a.password, now, remoteAddressOf(req));
      verdicts.set(key, v);
      if (v === 'ok') return { status: 'ok', kind: a.kind };
      if (v === 'stale') return { status: 'stale' };
    }
    return { status: 'bad' };
  };
}

/** Handles GET/HEAD of phone files and PUT uploads. */
export function createProvisioningHandler(o: ProvisioningHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const maxUpload = o.maxUploadBytes ?? 1024 * 1024;

  const challenge = (req: IncomingMessage, res: ServerResponse, now: number, stale: boolean): void => {
    res.setHeader('WWW-Authenticate', o.digest.challenge(now, stale, remoteAddressOf(req)));
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, err: HotdeskError, now: number): void => {
    if (err.code === 'auth-required' || err.code === 'auth-failed') challenge(req, res, now, err.detail['stale'] === true);
    o.log.info('provisioning refused', { code: err.code, ip: remoteAddressOf(req), path: requestTarget(req).path.slice(0, 128) });
    sendError(res, err);
  };

  const get = (req: IncomingMessage, res: ServerResponse): void => {
    const now = o.clock();
    const { path } = requestTarget(req);
    const fileReq: FileRequest = {
      protocol: 'http',
      path,
      ...(req.headers['user-agent'] !== undefined ? { userAgent: req.headers['user-agent'] } : {}),
      remoteAddress: remoteAddressOf(req),
      authenticate: digestCheck(req, o.digest, now),
    };
    const started = performance.now();
    const send = (served: ServedFile): void => {
      recordFetch('http', served.vendor, 'ok', since(started));
      const body = Buffer.from(served.file.body, 'utf8');
      res.writeHead(200, {
        'Content-Type': served.file.contentType,
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      o.log.debug('file served', { mac: served.mac, file: served.file.name, secret: served.file.secret, ip: remoteAddressOf(req) });
    };
    const failed = (e: unknown): void => {
      recordFetch('http', null, e instanceof HotdeskError ? e.code : 'internal', since(started));
      refuse(req, res, e instanceof HotdeskError ? e : new HotdeskError('internal', 'internal error', {}, { cause: e }), now);
      if (!(e instanceof HotdeskError)) o.log.error('provisioning failed', { error: String(e) });
    };
    // With a render pool, cache misses render on a worker and the main thread keeps serving.
    if (o.pipeline.rendersOffThread) {
      o.pipeline.serveAsync(fileReq).then(send, failed);
      return;
    }
    try {
      send(o.pipeline.serve(fileReq));
    } catch (e) {
      failed(e);
    }
  };

  const put = (req: IncomingMessage, res: ServerResponse): void => {
    const now = o.clock();
    const ip = remoteAddressOf(req);
    let name: string;
    try {
      name = sanitizeFileName(requestTarget(req).path, true);
    } catch (e) {
      refuse(req, res, e as HotdeskError, now);
      req.resume();
      return;
    }
    const m = UPLOAD_RE.exec(name);
    const mac = m?.[1] ? normalizeMac(m[1]) : null;
    const fail = (err: HotdeskError): void => {
      req.resume();
      refuse(req, res, err, now);
    };
    if (!m || !mac) return fail(new HotdeskError('write-refused', 'uploads are accepted only for <mac>-app.log, -boot.log, -phone.cfg, -directory.xml and similar'));
    if (o.limiter.blocked(ip, now)) return fail(new HotdeskError('rate-limited'));
    const runtime = o.store.phoneRuntime(mac);
    if (!runtime) {
      o.limiter.fail(ip, now);
      return fail(new HotdeskError('unknown-phone', 'unknown phone'));
    }
    const site = o.store.getSite();
    const accepted: AcceptedCredential[] = [{ kind: 'own', username: runtime.provUsername, password: runtime.provPassword }];
    if (!runtime.ownCredentialUsed) accepted.push({ kind: 'bootstrap', ...site.provisioning.bootstrap });
    const verdict = digestCheck(req, o.digest, now)(accepted);
    if (verdict.status !== 'ok') {
      if (verdict.status === 'bad') o.limiter.fail(ip, now);
      return fail(new HotdeskError(verdict.status === 'bad' ? 'auth-failed' : 'auth-required', undefined, verdict.status === 'stale' ? { stale: true } : {}));
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > maxUpload) return fail(new HotdeskError('too-large', `uploads are limited to ${maxUpload} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      if (aborted) return;
      size += c.length;
      if (size > maxUpload) {
        aborted = true;
        refuse(req, res, new HotdeskError('too-large', `uploads are limited to ${maxUpload} bytes`), now);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (aborted) return;
      try {
        const dir = join(o.dataDir, 'uploads', mac);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = join(dir, `.${name}.tmp`);
        writeFileSync(tmp, Buffer.concat(chunks), { mode: 0o600 });
        renameSync(tmp, join(dir, name.toLowerCase()));
        res.writeHead(201, { 'Content-Length': 0 });
        res.end();
      } catch (e) {
        o.log.error('upload store failed', { mac, error: String(e) });
        sendError(res, new HotdeskError('storage-error', 'could not store upload'));
      }
    });
  };

  return (req, res) => {
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return get(req, res);
      case 'PUT':
        return put(req, res);
      default:
        req.resume();
        res.setHeader('Allow', 'GET, HEAD, PUT');
        return sendError(res, new HotdeskError('method-not-allowed'));
    }
  };
}
