/**
 * Server side of HTTP Digest authentication (RFC 7616, with the RFC 2617
 * MD5 form desk phones use) for the provisioning server.
 *
 * Nonces are signed, not stored when issued: `<issued-ms>.<hmac>` with a
 * per-process key over the issue time, the realm and the client address the
 * challenge went to, so no table grows under a boot storm of unauthenticated
 * requests, and a nonce presented from another address is not ours (`bad`,
 * re-challenged). An expired nonce answers `stale=true` (RFC 7616 §3.3) and
 * the phone retries without asking anyone for a password.
 *
 * Replay: the nonce count `nc` (RFC 7616 §3.4, RFC 2617 §3.2.2) of every
 * nonce that authenticated a request is remembered until the nonce expires;
 * a request must carry a larger `nc` than the last one accepted for its
 * nonce, so a captured `Authorization` header works once. Clients that count
 * up on a kept-alive connection (curl, the phones) keep working; a repeated
 * or lower count answers `stale` (re-challenge, no failure counted). Without
 * qop (RFC 2069 form) there is no count: such a nonce is good for one
 * request. The table is capped; when it must forget a live nonce it also
 * refuses every nonce issued up to that one (`stale`), so forgetting never
 * reopens a replay.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { digestAlgorithm, digestResponse, parseDigestParams } from '../../protocols/digest.js';

/** The algorithms a client may answer with (the ones {@link DigestAuthority.challenge} offers). */
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

/** Parses an Authorization header; null when it is not a well-formed Digest header. */
export function parseDigestAuthorization(header: string | undefined): DigestCredentials | null {
  if (!header || header.length > 4096) return null;
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m?.[1]) return null;
  const p = parseDigestParams(m[1]);
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || realm === undefined || !nonce || uri === undefined || !response) return null;
  const alg = digestAlgorithm(p.get('algorithm'));
  if (alg !== 'MD5' && alg !== 'SHA-256') return null;
  const creds: DigestCredentials = { username, realm, nonce, uri, response: response.toLowerCase(), algorithm: alg };
  const extra: { qop?: string; nc?: string; cnonce?: string; opaque?: string } = {};
  for (const k of ['qop', 'nc', 'cnonce', 'opaque'] as const) {
    const v = p.get(k);
    if (v !== undefined) extra[k] = v;
  }
  return { ...creds, ...extra };
}

/** The expected `response` for the given credentials and password (RFC 7616 §3.4.1). */
export function expectedDigestResponse(c: DigestCredentials, method: string, password: string): string {
  return digestResponse({
    algorithm: c.algorithm,
    username: c.username,
    realm: c.realm,
    password,
    method,
    uri: c.uri,
    nonce: c.nonce,
    ...(c.qop !== undefined ? { qop: c.qop, nc: c.nc ?? '', cnonce: c.cnonce ?? '' } : {}),
  });
}

/** Result of checking a nonce. */
export type NonceState = 'valid' | 'stale' | 'invalid';

/** Default cap of the nonce-count table (entries of about 100 bytes). */
export const DEFAULT_MAX_NONCES = 100_000;

const NC_RE = /^[0-9a-fA-F]{8}$/;

/** Issues and checks digest challenges for one realm, and refuses replayed answers. */
export class DigestAuthority {
  private readonly key: Buffer;
  /**
   * Nonce -> issue time, the address it was issued to (its signature was checked for it) and the highest
   * nonce count accepted (in order of first use).
   */
  private readonly counts = new Map<string, { readonly issued: number; readonly client: string; nc: number }>();
  /** Issue time of the newest nonce forgotten before it expired (nonces up to it are refused). */
  private forgottenUpTo = Number.NEGATIVE_INFINITY;

  /**
   * @param realm the protection space (RFC 7616 §3.3)
   * @param nonceTtlMs how long a nonce is good for; then `stale`
   * @param key HMAC key (random per process by default)
   * @param maxNonces cap of the nonce-count table
   */
  constructor(
    readonly realm = 'hotdesk',
    private readonly nonceTtlMs = 300_000,
    key?: Buffer,
    private readonly maxNonces = DEFAULT_MAX_NONCES,
  ) {
    this.key = key ?? randomBytes(32);
  }

  private sign(issued: string, salt: string, client: string): string {
    return createHmac('sha256', this.key).update(`${issued}:${salt}:${this.realm}:${client}`).digest('base64url').slice(0, 32);
  }

  /**
   * A fresh nonce for time `now`, bound to the `client` address it is sent to. A random salt makes
   * every nonce unique: two challenges to one address in the same millisecond must not share a
   * nonce, or the second client's first answer (nc=1) would look like a replay of the first's.
   */
  nonce(now: number, client = ''): string {
    const issued = now.toString(36);
    const salt = randomBytes(6).toString('base64url');
    return `${issued}.${salt}.${this.sign(issued, salt, client)}`;
  }

  /**
   * `WWW-Authenticate` header values for `client` (MD5 first: what desk phones speak). SIP
   * challenges offer MD5 only (`algorithms`): RFC 8760 SHA-256 is not what desk phones and
   * most SIP stacks answer, and a second challenge header confuses some of them.
   */
  challenge(now: number, stale = false, client = '', algorithms: readonly DigestAlgorithm[] = ['MD5', 'SHA-256']): string[] {
    const nonce = this.nonce(now, client);
    const s = stale ? ', stale=true' : '';
    return algorithms.map((a) => `Digest realm="${this.realm}", qop="auth", algorithm=${a}, nonce="${nonce}"${s}`);
  }

  /** Issue time of a nonce we issued to `client`, or null when it is not ours (or not for this client). */
  private issuedAt(nonce: string, now: number, client: string): number | null {
    // A nonce already accepted from this address had its signature checked then (it is bound to the address).
    const known = this.counts.get(nonce);
    if (known !== undefined && known.client === client) return known.issued;
    const [issued, salt, sig, extra] = nonce.split('.');
    if (!issued || !salt || !sig || extra !== undefined) return null;
    const good = Buffer.from(this.sign(issued, salt, client));
    const got = Buffer.from(sig);
    if (good.length !== got.length || !timingSafeEqual(good, got)) return null;
    const at = parseInt(issued, 36);
    if (!Number.isFinite(at) || at > now + 5_000) return null;
    return at;
  }

  /** Whether a nonce was issued by us to `client` and is still fresh. */
  checkNonce(nonce: string, now: number, client = ''): NonceState {
    const at = this.issuedAt(nonce, now, client);
    if (at === null) return 'invalid';
    return now - at > this.nonceTtlMs ? 'stale' : 'valid';
  }

  /** Number of nonces whose count is remembered (for tests and metrics). */
  get rememberedNonces(): number {
    return this.counts.size;
  }

  /**
   * Verifies credentials against `password` for `method`, the request target
   * `requestUri` (the path as sent, RFC 7616 §3.4.6 requires they match) and
   * the `client` address. `ok` records the nonce count: the same answer is
   * not accepted again (`stale`).
   */
  verify(c: DigestCredentials, method: string, requestUri: string, password: string, now: number, client = ''): 'ok' | 'stale' | 'bad' {
    if (c.realm !== this.realm) return 'bad';
    if (c.uri !== requestUri) return 'bad';
    const issued = this.issuedAt(c.nonce, now, client);
    if (issued === null) return 'bad';
    if (c.qop !== undefined && (c.qop !== 'auth' || !c.nc || !NC_RE.test(c.nc) || !c.cnonce)) return 'bad';
    const want = Buffer.from(expectedDigestResponse(c, method, password));
    const got = Buffer.from(c.response);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad';
    if (now - issued > this.nonceTtlMs) return 'stale';
    return this.countUse(c.nonce, issued, client, c.qop !== undefined ? parseInt(c.nc ?? '0', 16) : 1, now) ? 'ok' : 'stale';
  }

  /** Accepts nonce count `nc` for `nonce` when it is above the last one accepted; remembers it. */
  private countUse(nonce: string, issued: number, client: string, nc: number, now: number): boolean {
    if (nc < 1) return false;
    const seen = this.counts.get(nonce);
    if (seen === undefined && issued <= this.forgottenUpTo) return false;
    if (seen !== undefined && nc <= seen.nc) return false;
    // Updated in place: the table stays in first-use order, which is close to issue order, so
    // forgetting the oldest entries raises the floor as little as possible (an LRU order would
    // forget nonces used once a moment ago and refuse every nonce issued before them).
    if (seen !== undefined) seen.nc = nc;
    else this.counts.set(nonce, { issued, client, nc });
    if (this.counts.size > this.maxNonces) this.shrink(now);
    return true;
  }

  /** Drops expired nonces; when that is not enough, the oldest tenth by first use (raising the floor to the newest of them). */
  private shrink(now: number): void {
    for (const [n, e] of this.counts) if (now - e.issued > this.nonceTtlMs) this.counts.delete(n);
    let drop = this.counts.size > this.maxNonces ? Math.max(1, Math.ceil(this.maxNonces / 10)) : 0;
    for (const [n, e] of this.counts) {
      if (drop-- <= 0) break;
      this.forgottenUpTo = Math.max(this.forgottenUpTo, e.issued);
      this.counts.delete(n);
    }
  }
}
