/**
 * Digest authentication, client side, shared by SIP (RFC 3261 §22.4, RFC 8760
 * for SHA-256) and HTTP (RFC 2617 / RFC 7616): parse a `WWW-Authenticate` /
 * `Proxy-Authenticate` challenge and compute the `Authorization` /
 * `Proxy-Authorization` answer.
 *
 * Pure module: hashing only; the client nonce (`cnonce`) is a parameter.
 * Passwords are inputs and never appear in any returned value other than as
 * part of a one-way hash.
 */
import { createHash } from 'node:crypto';

/** Digest algorithms supported (RFC 7616 §3.3, RFC 8760 §2). */
export type DigestAlgorithmName = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** A parsed Digest challenge. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: DigestAlgorithmName;
  /** Offered qop values, lowercased (empty: RFC 2069 compatibility mode). */
  readonly qop: readonly string[];
  readonly opaque?: string;
  readonly stale: boolean;
}

/**
 * Parses `k=v, k="v"` auth parameters (RFC 7235 §2.1) into a map with
 * lowercased keys; quoted-pair escapes are undone. The first occurrence of a
 * key wins.
 */
export function parseDigestParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/gy;
  let i = 0;
  while (i < text.length) {
    // Skip separators and blanks between parameters.
    while (i < text.length && /[\s,]/.test(text[i] ?? '')) i++;
    if (i >= text.length) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) break;
    const key = (m[1] ?? '').toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (!out.has(key)) out.set(key, value);
    i = re.lastIndex;
  }
  return out;
}

function normaliseAlgorithm(a: string | undefined): DigestAlgorithmName | null {
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

/**
 * Parses one `WWW-Authenticate` / `Proxy-Authenticate` value. Returns null
 * when the scheme is not Digest, a required parameter (realm, nonce) is
 * missing, or the algorithm is not one we support (e.g. SHA-512-256).
 */
export function parseDigestChallenge(header: string): DigestChallenge | null {
  if (header.length > 8192) return null;
  const m = /^\s*Digest\s+([\s\S]*)$/i.exec(header);
  if (!m) return null;
  const p = parseDigestParams(m[1] ?? '');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const algorithm = normaliseAlgorithm(p.get('algorithm'));
  if (realm === undefined || !nonce || !algorithm) return null;
  const qop = (p.get('qop') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const challenge: { -readonly [K in keyof DigestChallenge]: DigestChallenge[K] } = {
    realm,
    nonce,
    algorithm,
    qop,
    stale: (p.get('stale') ?? '').toLowerCase() === 'true',
  };
  const opaque = p.get('opaque');
  if (opaque !== undefined) challenge.opaque = opaque;
  return challenge;
}

/**
 * Picks the challenge to answer among several header values: the topmost one
 * whose algorithm we support (RFC 8760 §2.4: the server lists its preferred
 * algorithm first).
 */
export function chooseDigestChallenge(headers: readonly string[]): DigestChallenge | null {
  for (const h of headers) {
    const c = parseDigestChallenge(h);
    if (c) return c;
  }
  return null;
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

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

/** Inputs of {@link buildDigestAuthorization}. */
export interface DigestAuthorizationInput {
  readonly challenge: DigestChallenge;
  readonly username: string;
  readonly password: string;
  readonly method: string;
  /** The Request-URI (SIP) or request-target (HTTP) exactly as sent. */
  readonly uri: string;
  /** Fresh client nonce (random, supplied by the caller). */
  readonly cnonce: string;
  /** Nonce count, 1 for the first use of this nonce. */
  readonly nc?: number;
  readonly entityBody?: string;
}

/**
 * Builds the `Authorization` / `Proxy-Authorization` value answering
 * `challenge` (RFC 3261 §22.4, RFC 7616 §3.4). Uses qop=auth when offered,
 * auth-int when that is the only option, none when the server offered none.
 */
export function buildDigestAuthorization(a: DigestAuthorizationInput): string {
  const c = a.challenge;
  const qop = c.qop.includes('auth') ? 'auth' : c.qop.includes('auth-int') ? 'auth-int' : undefined;
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  const input: { -readonly [K in keyof DigestResponseInput]: DigestResponseInput[K] } = {
    algorithm: c.algorithm,
    username: a.username,
    realm: c.realm,
    password: a.password,
    method: a.method,
    uri: a.uri,
    nonce: c.nonce,
  };
  if (qop || c.algorithm.endsWith('-sess')) input.cnonce = a.cnonce;
  if (qop) {
    input.qop = qop;
    input.nc = nc;
  }
  if (a.entityBody !== undefined) input.entityBody = a.entityBody;
  const parts = [
    `username=${quote(a.username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(a.uri)}`,
    `response=${quote(digestResponse(input))}`,
    `algorithm=${c.algorithm}`,
  ];
  if (input.cnonce !== undefined) parts.push(`cnonce=${quote(input.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`);
  return `Digest ${parts.join(', ')}`;
}
