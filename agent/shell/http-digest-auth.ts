/**
 * Server side of HTTP Digest authentication (RFC 7616, with the RFC 2617
 * MD5 form desk phones use) for the provisioning server.
 *
 * Nonces are stateless: `<issued-ms>.<hmac>` signed with a per-process key, so
 * no table grows under a boot storm; an expired nonce answers `stale=true`
 * (RFC 7616 §3.3) and the phone retries without asking anyone for a password.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Parsed `Authorization: Digest ...` parameters. */
export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  readonly qop?: string;
  readonly nc?: string;
  readonly cnonce?: string;
  readonly opaque?: string;
}

/** Parses `k=v, k="v"` auth parameter lists (RFC 7235 §2.1). */
export function parseAuthParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const key = (m[1] ?? '').toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

/** Parses an Authorization header; null when it is not a well-formed Digest header. */
export function parseDigestAuthorization(header: string | undefined): DigestCredentials | null {
  if (!header || header.length > 4096) return null;
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m?.[1]) return null;
  const p = parseAuthParams(m[1]);
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || realm === undefined || !nonce || uri === undefined || !response) return null;
  const alg = (p.get('algorithm') ?? 'MD5').toUpperCase();
  if (alg !== 'MD5' && alg !== 'SHA-256') return null;
  const creds: DigestCredentials = { username, realm, nonce, uri, response: response.toLowerCase(), algorithm: alg };
  const extra: { qop?: string; nc?: string; cnonce?: string; opaque?: string } = {};
  for (const k of ['qop', 'nc', 'cnonce', 'opaque'] as const) {
    const v = p.get(k);
    if (v !== undefined) extra[k] = v;
  }
  return { ...creds, ...extra };
}

function h(alg: DigestAlgorithm, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
}

/** The expected `response` for the given credentials and password (RFC 7616 §3.4.1). */
export function expectedDigestResponse(c: DigestCredentials, method: string, password: string): string {
  const ha1 = h(c.algorithm, `${c.username}:${c.realm}:${password}`);
  const ha2 = h(c.algorithm, `${method}:${c.uri}`);
  return c.qop ? h(c.algorithm, `${ha1}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:${c.qop}:${ha2}`) : h(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
}

/** Result of checking a nonce. */
export type NonceState = 'valid' | 'stale' | 'invalid';

/** Issues and checks stateless digest challenges for one realm. */
export class DigestAuthority {
  private readonly key: Buffer;
  constructor(readonly realm = 'hotdesk', private readonly nonceTtlMs = 300_000, key?: Buffer) {
    this.key = key ?? randomBytes(32);
  }

  private sign(issued: string): string {
    return createHmac('sha256', this.key).update(`${issued}:${this.realm}`).digest('base64url').slice(0, 32);
  }

  /** A fresh nonce for time `now`. */
  nonce(now: number): string {
    const issued = now.toString(36);
    return `${issued}.${this.sign(issued)}`;
  }

  /** `WWW-Authenticate` header values (MD5 first: what desk phones speak). */
  challenge(now: number, stale = false): string[] {
    const nonce = this.nonce(now);
    const s = stale ? ', stale=true' : '';
    return [
      `Digest realm="${this.realm}", qop="auth", algorithm=MD5, nonce="${nonce}"${s}`,
      `Digest realm="${this.realm}", qop="auth", algorithm=SHA-256, nonce="${nonce}"${s}`,
    ];
  }

  /** Whether a nonce was issued by us and is still fresh. */
  checkNonce(nonce: string, now: number): NonceState {
    const [issued, sig] = nonce.split('.');
    if (!issued || !sig) return 'invalid';
    const good = Buffer.from(this.sign(issued));
    const got = Buffer.from(sig);
    if (good.length !== got.length || !timingSafeEqual(good, got)) return 'invalid';
    const at = parseInt(issued, 36);
    if (!Number.isFinite(at) || at > now + 5_000) return 'invalid';
    return now - at > this.nonceTtlMs ? 'stale' : 'valid';
  }

  /**
   * Verifies credentials against `password` for `method` and the request
   * target `requestUri` (the path as sent, RFC 7616 §3.4.6 requires they match).
   */
  verify(c: DigestCredentials, method: string, requestUri: string, password: string, now: number): 'ok' | 'stale' | 'bad' {
    if (c.realm !== this.realm) return 'bad';
    if (c.uri !== requestUri) return 'bad';
    const nonceState = this.checkNonce(c.nonce, now);
    if (nonceState === 'invalid') return 'bad';
    if (c.qop !== undefined && (c.qop !== 'auth' || !c.nc || !c.cnonce)) return 'bad';
    const want = Buffer.from(expectedDigestResponse(c, method, password));
    const got = Buffer.from(c.response);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad';
    return nonceState === 'stale' ? 'stale' : 'ok';
  }
}
