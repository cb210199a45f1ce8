/**
 * SIP message codec (RFC 3261 §7, §20, §25): the entry point for parsing one
 * UDP datagram into a typed request or response (sip-parse.ts), reading
 * headers (sip-wire.ts), checking a request the way a UAS must
 * (sip-validate.ts), and building requests/responses with CRLF framing and a
 * correct Content-Length. The check-sync NOTIFY is built in
 * sip-check-sync.ts, responses with Via stamping in sip-response-builder.ts.
 *
 * Pure module: no sockets, no clock, no randomness (branches, tags and
 * Call-IDs are parameters). Parsing never throws: garbage yields
 * `{ ok: false, error }`.
 */
import { parseNameAddr } from './sip-headers.js';
import { getHeader, getHeaders, type SipHeader, type SipMessage, type SipRequest, TOKEN_RE } from './sip-wire.js';

export { escapeSipUser, formatHost, parseCSeq, parseNameAddr, parseParams, parseSipUri, parseVia } from './sip-headers.js';
export type { SipNameAddr, SipUri, SipVia } from './sip-headers.js';
export { MAX_SIP_DATAGRAM, parseSipMessage } from './sip-parse.js';
export type { SipParseReply, SipParseResult } from './sip-parse.js';
export { AGENT_METHODS, isRfc2543Via, validateRequest, validateResponse } from './sip-validate.js';
export type { RequestCheckOptions, RequestRejection } from './sip-validate.js';
export { bodyText, canonicalHeaderName, contentType, countHeaderLines, getHeader, getHeaders, splitHeaderList } from './sip-wire.js';
export type { SipHeader, SipMessage, SipRequest, SipResponse } from './sip-wire.js';

/**
 * Refuses CR, LF and NUL in anything written into a header line (header
 * injection). NUL is let through in values copied from a parsed request
 * (`nulOk`): RFC 3261 §25.1 allows it escaped in a quoted string (RFC 4475
 * `intmeth`), and the parser never yields a CR or LF in a value.
 */
function assertHeaderSafe(s: string, what: string, nulOk = false): void {
  if (nulOk ? /[\r\n]/.test(s) : /[\r\n\0]/.test(s)) throw new RangeError(`${what} contains CR, LF or NUL`);
}

function serializeHead(startLine: string, headers: readonly SipHeader[], body: string, nulOk = false): string {
  assertHeaderSafe(startLine, 'start line');
  const lines = [startLine];
  for (const h of headers) {
    if (h.name.toLowerCase() === 'content-length' || h.name.toLowerCase() === 'l') continue;
    if (!TOKEN_RE.test(h.name)) throw new RangeError('bad header name');
    assertHeaderSafe(h.value, `header ${h.name}`, nulOk);
    lines.push(`${h.name}: ${h.value}`);
  }
  lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Serialises a request: start line, headers (any given Content-Length is
 * replaced by the real one), blank line, body. Throws RangeError when a value
 * would inject a line break (a programming error, never input-driven).
 */
export function buildRequest(r: { method: string; uri: string; headers: readonly SipHeader[]; body?: string }): string {
  if (!TOKEN_RE.test(r.method)) throw new RangeError('bad method');
  return serializeHead(`${r.method} ${r.uri} SIP/2.0`, r.headers, r.body ?? '');
}

/** Default reason phrases for the statuses this agent sends (RFC 3261 §21). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  202: 'Accepted',
  302: 'Moved Temporarily',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'Version Not Supported',
  603: 'Decline',
};

/** Serialises a response (RFC 3261 §7.2); Content-Length as in {@link buildRequest}. */
export function buildResponse(r: { status: number; reason?: string; headers: readonly SipHeader[]; body?: string }): string {
  return serializeResponse(r, false);
}

function serializeResponse(r: { status: number; reason?: string; headers: readonly SipHeader[]; body?: string }, nulOk: boolean): string {
  if (!Number.isInteger(r.status) || r.status < 100 || r.status > 699) throw new RangeError('bad status');
  return serializeHead(`SIP/2.0 ${r.status} ${r.reason ?? REASONS[r.status] ?? 'Unknown'}`, r.headers, r.body ?? '', nulOk);
}

/** Serialises a parsed or hand-made message (the body as its UTF-8 text view: binary bodies do not survive). */
export function serializeSipMessage(m: SipMessage): string {
  return m.kind === 'request'
    ? buildRequest({ method: m.method, uri: m.uri, headers: m.headers, body: m.body })
    : buildResponse({ status: m.status, reason: m.reason, headers: m.headers, body: m.body });
}

/** RFC 3261 §8.1.1.7 magic cookie every RFC 3261 branch starts with. */
export const BRANCH_COOKIE = 'z9hG4bK';

/** Prefixes the magic cookie unless the branch already has it. */
export function toBranch(random: string): string {
  return random.startsWith(BRANCH_COOKIE) ? random : BRANCH_COOKIE + random;
}

/**
 * Builds a response to `req` copying Via (all, in order), From, To, Call-ID
 * and CSeq (RFC 3261 §8.2.6.2), adding `;tag=` to To when it has none and a
 * tag is given.
 */
export function buildResponseTo(
  req: SipRequest,
  r: { status: number; reason?: string; toTag?: string; headers?: readonly SipHeader[]; body?: string },
): string {
  const headers: SipHeader[] = getHeaders(req, 'Via').map((v) => ({ name: 'Via', value: v }));
  const copy = (name: string): void => {
    const v = getHeader(req, name);
    if (v !== undefined) headers.push({ name, value: v });
  };
  copy('From');
  const to = getHeader(req, 'To');
  if (to !== undefined) {
    const hasTag = parseNameAddr(to)?.params.has('tag') ?? false;
    headers.push({ name: 'To', value: !hasTag && r.toTag ? `${to};tag=${r.toTag}` : to });
  }
  copy('Call-ID');
  copy('CSeq');
  headers.push(...(r.headers ?? []));
  const out: { status: number; reason?: string; headers: SipHeader[]; body?: string } = { status: r.status, headers };
  if (r.reason !== undefined) out.reason = r.reason;
  if (r.body !== undefined) out.body = r.body;
  return serializeResponse(out, true);
}
