/**
 * Token check for the admin REST API, the PBX feature-code endpoint and the
 * live event stream (docs/api.md "Tokens").
 *
 * A token travels as `Authorization: Bearer <token>` (RFC 6750 §2.1) or as
 * `X-Hotdesk-Token: <token>`. The `?token=` query form (RFC 6750 §2.3) is
 * accepted only where the caller asks for it: the WebSocket upgrade, because
 * browsers cannot set headers on `new WebSocket()`.
 *
 * Accepted tokens are read from `site.apiTokens` on every request, so a
 * directory re-import takes effect at once. Comparison is constant time over
 * SHA-256 digests (lengths never leak) and always visits every configured
 * token. Tokens are never logged and never echoed in errors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HotdeskError } from '../../core/errors.js';
import type { SiteSettings } from '../../core/model.js';
import type { FailureLimiter } from '../http/rate-limiter.js';
import { remoteAddressOf } from '../http/remote-address.js';

/** Where the tokens come from (the store, read per request). */
export interface TokenSource {
  getSite(): Promise<Pick<SiteSettings, 'apiTokens'>>;
}

/** Longest token accepted (bounded work for hostile input). */
const MAX_TOKEN = 512;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Constant-time string equality (via SHA-256 digests, so unequal lengths take
 * the same time as equal ones).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** True when `given` equals one of `accepted`; visits every entry. An empty list accepts nothing. */
export function tokenAccepted(given: string, accepted: readonly string[]): boolean {
  let ok = false;
  for (const t of accepted) {
    if (t.length === 0) continue;
    if (constantTimeEqual(given, t)) ok = true;
  }
  return ok;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Extracts the presented token, or null when none was presented.
 * `Authorization: Bearer` wins over `X-Hotdesk-Token`, which wins over the
 * query (only when `allowQuery`).
 */
export function presentedToken(req: IncomingMessage, url: URL | null, allowQuery: boolean): string | null {
  const auth = headerValue(req.headers.authorization);
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m?.[1]) return m[1];
  }
  const x = headerValue(req.headers['x-hotdesk-token'])?.trim();
  if (x) return x;
  if (allowQuery && url) {
    const q = url.searchParams.get('token');
    if (q) return q;
  }
  return null;
}

/**
 * Throws `token-required` when no token was presented and `token-invalid`
 * when it matches none of the site's API tokens.
 *
 * @param allowQuery accept `?token=` (WebSocket upgrade only)
 */
export async function requireApiToken(source: TokenSource, req: IncomingMessage, url: URL | null = null, allowQuery = false): Promise<void> {
  const token = presentedToken(req, url, allowQuery);
  if (token === null) throw new HotdeskError('token-required');
  if (token.length > MAX_TOKEN || !tokenAccepted(token, (await source.getSite()).apiTokens)) throw new HotdeskError('token-invalid');
}

/** `WWW-Authenticate` value for a refused token (RFC 6750 §3). */
export function bearerChallenge(err: HotdeskError): string {
  return err.code === 'token-invalid' ? 'Bearer realm="hotdesk", error="invalid_token"' : 'Bearer realm="hotdesk"';
}

/** What {@link authorize} needs. */
export interface AuthorizeDeps {
  readonly store: TokenSource;
  readonly clock: () => number;
  /** Shared per-source failure limiter: wrong tokens count as failures. */
  readonly limiter?: FailureLimiter;
}

/**
 * {@link requireApiToken} plus the per-source failure limit (docs/behaviour.md §11): a
 * blocked source gets `rate-limited` before its token is looked at, and every
 * wrong token counts one failure. A missing token is not counted (no guess).
 */
export async function authorize(deps: AuthorizeDeps, req: IncomingMessage, url: URL | null = null, allowQuery = false): Promise<void> {
  const ip = remoteAddressOf(req);
  const now = deps.clock();
  if (deps.limiter?.blocked(ip, now)) throw new HotdeskError('rate-limited');
  try {
    await requireApiToken(deps.store, req, url, allowQuery);
  } catch (e) {
    if (e instanceof HotdeskError && e.code === 'token-invalid') deps.limiter?.fail(ip, now);
    throw e;
  }
}
