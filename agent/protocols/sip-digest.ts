/**
 * Digest authentication, client side, for SIP (RFC 3261 §22.4, RFC 8760 for
 * SHA-256) and HTTP (RFC 2617 / RFC 7616): parse a `WWW-Authenticate` /
 * `Proxy-Authenticate` challenge and compute the `Authorization` /
 * `Proxy-Authorization` answer. Parameter parsing and the response
 * computation are the ones the server side uses (digest.ts).
 *
 * Pure module: hashing only; the client nonce (`cnonce`) is a parameter.
 * Passwords are inputs and never appear in any returned value other than as
 * part of a one-way hash.
 */
import { digestAlgorithm, digestResponse, parseDigestParams, type DigestAlgorithmName, type DigestResponseInput } from './digest.js';

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
  const algorithm = digestAlgorithm(p.get('algorithm'));
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

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
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
