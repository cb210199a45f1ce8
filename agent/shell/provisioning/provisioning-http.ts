/**
 * Phone-facing HTTP: config files at the root path (GET/HEAD) and Poly's PUT
 * uploads (`<mac>-app.log`, `<mac>-boot.log`, `<mac>-phone.cfg`,
 * `<mac>-directory.xml`, ...), both behind the shared pipeline's rules.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import { normalizeMac } from '../../core/model.js';
import type { AcceptedCredential, AuthCheck, FileRequest, PipelineStore, ProvisioningPipeline, ServedFile } from './provisioning-pipeline.js';
import { sanitizeFileName } from './provisioning-pipeline.js';
import { type DigestAuthority, parseDigestAuthorization } from './http-digest-auth.js';
import type { FirmwareFiles } from './firmware-files.js';
import type { FailureLimiter } from '../http/rate-limiter.js';
import type { Logger } from '../logger.js';
import { recordFetch, since } from '../api/metrics.js';
import { guardMethods } from '../http/method-guard.js';
import { remoteAddressOf } from '../http/remote-address.js';
import type { HttpPlugin } from '../http/server.js';

/** Poly upload names: `<mac>-<what>` with a known suffix. */
const UPLOAD_RE = /^([0-9a-fA-F]{12})-(app\.log|boot\.log|phone\.cfg|web\.cfg|directory\.xml|calls\.xml|license\.cfg)$/;

/**
 * Answers 200 with a served file, writing its parts (the render cache's shared chunks) straight to the
 * connection, corked, so Node sends headers and every part in one `writev`: no per-request copy of the
 * file into one Buffer (on this project's 2-core bench box, that copy and its garbage took about 40 % off
 * the throughput of a bare `node:http` server sending a 37 KB file). The reply is hijacked: no `onSend`
 * hook applies to this route, so nothing after the handler would have changed it. HEAD gets the same
 * headers; Node drops the body.
 */
function sendServed(reply: FastifyReply, served: ServedFile): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  if (res.destroyed) return reply;
  res.writeHead(200, { 'content-type': served.file.contentType, 'cache-control': 'no-store', 'content-length': served.length });
  res.cork();
  for (const part of served.parts) res.write(part);
  res.end(); // uncorks fully: headers and parts leave together
  return reply;
}

export interface ProvisioningHttpOptions {
  readonly pipeline: ProvisioningPipeline;
  readonly store: Pick<PipelineStore, 'provisioningRuntime' | 'getSite'>;
  readonly digest: DigestAuthority;
  readonly dataDir: string;
  readonly clock: () => number;
  readonly log: Logger;
  readonly limiter: FailureLimiter;
  /** Firmware images for `/firmware/<name>` (absent = not served over HTTP). */
  readonly firmware?: FirmwareFiles;
  /** Upload size limit in bytes (default 1 MiB). */
  readonly maxUploadBytes?: number;
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

/** An upload that passed its checks: where it goes. */
interface UploadTarget {
  readonly mac: string;
  readonly name: string;
}

/** The phone-file, upload and firmware routes. */
export function provisioningRoutes(o: ProvisioningHttpOptions): HttpPlugin {
  const maxUpload = o.maxUploadBytes ?? 1024 * 1024;
  const uploads = new WeakMap<FastifyRequest, UploadTarget>();

  /** Refusals are logged (code, source, path: never a credential) and counted. */
  const refused = (request: FastifyRequest, reply: FastifyReply, e: Error, done: () => void): void => {
    const code = isHotdeskError(e) ? e.code : 'internal';
    if (request.method !== 'PUT') recordFetch('http', null, code, reply.elapsedTime / 1000);
    o.log.info('provisioning refused', { code, ip: remoteAddressOf(request.raw), path: requestTarget(request.raw).path.slice(0, 128) });
    done();
  };

  const get = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const req = request.raw;
    const now = o.clock();
    const fileReq: FileRequest = {
      protocol: 'http',
      path: requestTarget(req).path,
      ...(req.headers['user-agent'] !== undefined ? { userAgent: req.headers['user-agent'] } : {}),
      remoteAddress: remoteAddressOf(req),
      authenticate: digestCheck(req, o.digest, now),
    };
    const started = performance.now();
    // With a render pool, cache misses render on a worker and the main thread keeps serving.
    const served = await o.pipeline.serve(fileReq);
    recordFetch('http', served.vendor, 'ok', since(started));
    o.log.debug('file served', { mac: served.mac, file: served.file.name, secret: served.file.secret, ip: fileReq.remoteAddress });
    return sendServed(reply, served);
  };

  /** Checks an upload before its body is read: name, source, phone, credential, declared size. */
  const checkUpload = async (request: FastifyRequest): Promise<void> => {
    const req = request.raw;
    const now = o.clock();
    const ip = remoteAddressOf(req);
    const name = sanitizeFileName(requestTarget(req).path, true);
    const m = UPLOAD_RE.exec(name);
    const mac = m?.[1] ? normalizeMac(m[1]) : null;
    if (!m || !mac) throw new HotdeskError('write-refused', 'uploads are accepted only for <mac>-app.log, -boot.log, -phone.cfg, -directory.xml and similar');
    if (o.limiter.blocked(ip, now)) throw new HotdeskError('rate-limited');
    const [runtime, site] = await Promise.all([o.store.provisioningRuntime(mac), o.store.getSite()]);
    if (!runtime) {
      o.limiter.fail(ip, now);
      throw new HotdeskError('unknown-phone', 'unknown phone');
    }
    const accepted: AcceptedCredential[] = [{ kind: 'own', username: runtime.provUsername, password: runtime.provPassword }];
    if (!runtime.ownCredentialUsed) accepted.push({ kind: 'bootstrap', ...site.provisioning.bootstrap });
    const verdict = digestCheck(req, o.digest, now)(accepted);
    if (verdict.status !== 'ok') {
      if (verdict.status === 'bad') o.limiter.fail(ip, now);
      throw new HotdeskError(verdict.status === 'bad' ? 'auth-failed' : 'auth-required', undefined, verdict.status === 'stale' ? { stale: true } : {});
    }
    if (Number(req.headers['content-length'] ?? '0') > maxUpload) throw new HotdeskError('too-large', `uploads are limited to ${maxUpload} bytes`);
    uploads.set(request, { mac, name });
  };

  const put = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const target = uploads.get(request);
    if (!target) throw new HotdeskError('internal', 'upload without checks');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    try {
      const dir = join(o.dataDir, 'uploads', target.mac);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `.${target.name}.tmp`);
      writeFileSync(tmp, body, { mode: 0o600 });
      renameSync(tmp, join(dir, target.name.toLowerCase()));
    } catch (e) {
      o.log.error('upload store failed', { mac: target.mac, error: String(e) });
      throw new HotdeskError('storage-error', 'could not store upload');
    }
    return reply.code(201).header('content-length', '0').send();
  };

  return async (app) => {
    // Uploads are raw bytes, whatever the phone calls them.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxUpload }, (_request, body, done) => done(null, body));
    app.route({ method: ['GET', 'HEAD'], url: '/*', schema: { hide: true }, onError: refused, handler: get });
    app.route({ method: 'PUT', url: '/*', schema: { hide: true }, bodyLimit: maxUpload, onRequest: checkUpload, onError: refused, handler: put });
    guardMethods(app, '/*', ['GET', 'HEAD', 'PUT']);
    const firmware = o.firmware;
    if (firmware) {
      app.route({
        method: ['GET', 'HEAD'],
        url: '/firmware/*',
        schema: { hide: true },
        handler: (request, reply) => {
          let name: string;
          try {
            name = decodeURIComponent(requestTarget(request.raw).path.slice('/firmware/'.length));
          } catch {
            throw new HotdeskError('bad-request', 'malformed path');
          }
          return reply.code(200).type('application/octet-stream').send(firmware.read(name));
        },
      });
      guardMethods(app, '/firmware/*', ['GET', 'HEAD']);
    }
  };
}
