/**
 * The parts of Digest access authentication both sides share, for HTTP
 * (RFC 7616, with the RFC 2617 MD5 form desk phones use) and SIP (RFC 3261
 * §22.4, RFC 8760 for SHA-256): the auth-param list of a challenge or an
 * answer (RFC 7235 §2.1), the algorithm names, and the `response` value
 * (RFC 7616 §3.4.1). The client side (answering a challenge) is
 * sip-digest.ts; the server side (issuing and checking nonces) is
 * shell/provisioning/http-digest-auth.ts.
 *
 * Pure module: hashing only. Passwords are inputs and never appear in any
 * returned value other than inside a one-way hash.
 */
import { createHash } from 'node:crypto';

/** Digest algorithms supported (RFC 7616 §3.3, RFC 8760 §2). */
export type DigestAlgorithmName = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

const PARAM = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/y;
const SEPARATOR = /[\s,]/;

/**
 * Parses `k=v, k="v"` auth parameters (RFC 7235 §2.1) into a map with
 * lowercased keys; quoted-pair escapes are undone and a comma inside a quoted
 * value is part of it. The first occurrence of a key wins. Text that is not a
 * parameter is skipped up to the next separator, so one odd token does not
 * hide the parameters after it.
 */
export function parseDigestParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && SEPARATOR.test(text[i] ?? '')) i++;
    if (i >= text.length) break;
    PARAM.lastIndex = i;
    const m = PARAM.exec(text);
    if (m) {
      const key = (m[1] ?? '').toLowerCase();
      const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
      if (!out.has(key)) out.set(key, value);
      i = PARAM.lastIndex;
      continue;
    }
    // Not a parameter: skip one token (a quoted string as a whole).
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else {
      while (i < text.length && !SEPARATOR.test(text[i] ?? '')) i++;
    }
  }
  return out;
}

/** The algorithm named by an `algorithm` parameter (absent: MD5, RFC 7616 §3.3); null when unsupported. */
export function digestAlgorithm(a: string | undefined): DigestAlgorithmName | null {
  switch ((a ?? 'MD5').toUpperCase()) {
    case 'MD5':
      return 'MD5';
    case 'MD5-SESS':
      return 'MD5-sess';
    case 'SHA-256':
      return 'SHA-256';
    case 'SHA-256-SESS':
      return 'SHA-256-sess';
    default:
      return null;
  }
}

/** Hex digest of `data` with the algorithm's hash function (MD5 or SHA-256). */
export function digestHash(algorithm: DigestAlgorithmName, data: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(data, 'utf8')
    .digest('hex');
}

/** Inputs of {@link digestResponse}. */
export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithmName;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  /** `auth` or `auth-int`; omitted for RFC 2069 compatibility. */
  readonly qop?: string;
  /** 8 hex digits, e.g. `00000001` (required with qop). */
  readonly nc?: string;
  /** Client nonce (required with qop and for -sess algorithms). */
  readonly cnonce?: string;
  /** Body for qop=auth-int (empty string when there is none). */
  readonly entityBody?: string;
}

/**
 * The `response` value (RFC 2617 §3.2.2, RFC 7616 §3.4.1):
 * `H(HA1:nonce:nc:cnonce:qop:HA2)` with qop, `H(HA1:nonce:HA2)` without.
 */
export function digestResponse(d: DigestResponseInput): string {
  const H = (s: string): string => digestHash(d.algorithm, s);
  let ha1 = H(`${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = d.qop === 'auth-int' ? H(`${d.method}:${d.uri}:${H(d.entityBody ?? '')}`) : H(`${d.method}:${d.uri}`);
  if (d.qop) return H(`${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${ha2}`);
  return H(`${ha1}:${d.nonce}:${ha2}`);
}
