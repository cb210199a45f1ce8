/**
 * SIP message codec (RFC 3261 §7, §20, §25): parse one UDP datagram into a
 * typed request or response, and build requests/responses with CRLF framing
 * and a correct Content-Length. The check-sync NOTIFY is built in
 * sip-check-sync.ts.
 *
 * Pure module: no sockets, no clock, no randomness (branches, tags and
 * Call-IDs are parameters). Parsing never throws: garbage yields
 * `{ ok: false, error }`.
 */
import { parseNameAddr } from './sip-headers.js';

export { escapeSipUser, formatHost, parseCSeq, parseNameAddr, parseParams, parseSipUri, parseVia } from './sip-headers.js';
export type { SipNameAddr, SipUri, SipVia } from './sip-headers.js';

/** One header field line as received or to be sent (name in canonical long form). */
export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

interface SipMessageBase {
  /** Header fields in wire order; compact names are expanded (RFC 3261 §7.3.3). */
  readonly headers: readonly SipHeader[];
  /** Message body (UTF-8 decoded), exactly Content-Length bytes when that header is present. */
  readonly body: string;
}

/** A parsed SIP request (RFC 3261 §7.1). */
export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
}

/** A parsed SIP response (RFC 3261 §7.2). */
export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

/** A parsed SIP message. */
export type SipMessage = SipRequest | SipResponse;

/** Outcome of {@link parseSipMessage}. */
export type SipParseResult = { readonly ok: true; readonly message: SipMessage } | { readonly ok: false; readonly error: string };

/** Largest datagram we look at (a UDP payload cannot exceed it). */
export const MAX_SIP_DATAGRAM = 65_535;

/** Compact header forms (RFC 3261 §7.3.3 and the IANA SIP parameter registry). */
const COMPACT: Readonly<Record<string, string>> = {
  v: 'Via',
  f: 'From',
  t: 'To',
  i: 'Call-ID',
  m: 'Contact',
  l: 'Content-Length',
  e: 'Content-Encoding',
  c: 'Content-Type',
  k: 'Supported',
  s: 'Subject',
  o: 'Event',
  u: 'Allow-Events',
  r: 'Refer-To',
  b: 'Referred-By',
  x: 'Session-Expires',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  y: 'Identity',
  n: 'Identity-Info',
};

/** Canonical spelling of the header names this agent reads or writes. */
const CANONICAL: ReadonlyMap<string, string> = new Map(
  [
    'Via',
    'From',
    'To',
    'Call-ID',
    'CSeq',
    'Contact',
    'Content-Length',
    'Content-Type',
    'Content-Encoding',
    'Max-Forwards',
    'Event',
    'Subscription-State',
    'Expires',
    'User-Agent',
    'Server',
    'Allow',
    'Allow-Events',
    'Supported',
    'Require',
    'Accept',
    'WWW-Authenticate',
    'Proxy-Authenticate',
    'Authorization',
    'Proxy-Authorization',
    'Route',
    'Record-Route',
    'Subject',
    'Refer-To',
    'Referred-By',
    'Session-Expires',
    'Date',
    'Warning',
    'Retry-After',
  ].map((n) => [n.toLowerCase(), n]),
);

/** Headers whose value may be a comma-separated list (RFC 3261 §7.3.1); auth headers are not. */
const LIST_HEADERS = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'allow-events',
  'alert-info',
  'call-info',
  'error-info',
  'in-reply-to',
]);

const METHOD_RE = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const HEADER_NAME_RE = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** Expands a compact header name and fixes the case of known names. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const long = name.length === 1 ? COMPACT[lower] : undefined;
  if (long) return long;
  return CANONICAL.get(lower) ?? name;
}

/**
 * Parses one SIP datagram (RFC 3261 §7, §18.3). Accepts CRLF or bare LF line
 * ends and header folding; a body shorter than Content-Length is an error,
 * extra bytes after it are ignored.
 */
export function parseSipMessage(data: Uint8Array | string): SipParseResult {
  try {
    return parseUnsafe(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch {
    return { ok: false, error: 'unparseable message' };
  }
}

function parseUnsafe(buf: Buffer): SipParseResult {
  if (buf.length === 0) return { ok: false, error: 'empty datagram' };
  if (buf.length > MAX_SIP_DATAGRAM) return { ok: false, error: 'datagram too large' };
  // Skip leading CRLFs (keep-alives, RFC 5626 §3.5.1; RFC 3261 §7.5).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) return { ok: false, error: 'keep-alive only' };
  const { headEnd, bodyStart } = findHeadEnd(buf, start);
  const head = buf.subarray(start, headEnd).toString('utf8');
  const lines = unfold(head.split(/\r?\n/));
  const startLine = lines.shift();
  if (!startLine) return { ok: false, error: 'no start line' };

  const headers: SipHeader[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { ok: false, error: 'malformed header line' };
    const rawName = line.slice(0, colon).trim();
    if (!HEADER_NAME_RE.test(rawName)) return { ok: false, error: 'malformed header name' };
    headers.push({ name: canonicalHeaderName(rawName), value: line.slice(colon + 1).trim() });
  }

  let body = '';
  const rest = bodyStart < 0 ? Buffer.alloc(0) : buf.subarray(bodyStart);
  const cl = headers.find((h) => h.name === 'Content-Length');
  if (cl) {
    if (!/^\d{1,6}$/.test(cl.value)) return { ok: false, error: 'bad Content-Length' };
    const n = Number(cl.value);
    if (n > rest.length) return { ok: false, error: 'body shorter than Content-Length' };
    body = rest.subarray(0, n).toString('utf8');
  } else {
    body = rest.toString('utf8');
  }

  const req = /^([^ ]+) ([^ ]+) SIP\/2\.0$/i.exec(startLine);
  if (req && !/^SIP\//i.test(startLine)) {
    const method = req[1] ?? '';
    const uri = req[2] ?? '';
    if (!METHOD_RE.test(method)) return { ok: false, error: 'bad method' };
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri)) return { ok: false, error: 'bad Request-URI' };
    return { ok: true, message: { kind: 'request', method: method.toUpperCase(), uri, headers, body } };
  }
  const res = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/i.exec(startLine);
  if (res) {
    return { ok: true, message: { kind: 'response', status: Number(res[1]), reason: res[2] ?? '', headers, body } };
  }
  return { ok: false, error: 'not a SIP start line' };
}

function findHeadEnd(buf: Buffer, from: number): { headEnd: number; bodyStart: number } {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    // "\n\n" or "\n\r\n" ends the head.
    if (buf[i + 1] === 0x0a) return { headEnd: i, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd: i, bodyStart: i + 3 };
  }
  return { headEnd: buf.length, bodyStart: -1 };
}

function unfold(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      out[out.length - 1] += ` ${line.trim()}`;
    } else {
      out.push(line);
    }
  }
  return out;
}

/** Splits a header value on top-level commas (outside quotes and angle brackets). */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (quoted && ch === '\\') {
      cur += ch + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    if (ch === ',' && !quoted && !angle) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** First value of a header (case-insensitive, compact forms accepted), or undefined. */
export function getHeader(msg: { readonly headers: readonly SipHeader[] }, name: string): string | undefined {
  return getHeaders(msg, name)[0];
}

/**
 * All values of a header, in order. List-valued headers (Via, Contact, ...)
 * written as `a, b` on one line are split into separate values.
 */
export function getHeaders(msg: { readonly headers: readonly SipHeader[] }, name: string): string[] {
  const want = canonicalHeaderName(name).toLowerCase();
  const out: string[] = [];
  for (const h of msg.headers) {
    if (h.name.toLowerCase() !== want) continue;
    if (LIST_HEADERS.has(want)) out.push(...splitHeaderList(h.value));
    else out.push(h.value);
  }
  return out;
}

/** Refuses CR, LF and NUL in anything written into a header line (header injection). */
function assertHeaderSafe(s: string, what: string): void {
  if (/[\r\n\0]/.test(s)) throw new RangeError(`${what} contains CR, LF or NUL`);
}

function serializeHead(startLine: string, headers: readonly SipHeader[], body: string): string {
  assertHeaderSafe(startLine, 'start line');
  const lines = [startLine];
  for (const h of headers) {
    if (h.name.toLowerCase() === 'content-length' || h.name.toLowerCase() === 'l') continue;
    if (!HEADER_NAME_RE.test(h.name)) throw new RangeError('bad header name');
    assertHeaderSafe(h.value, `header ${h.name}`);
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
  if (!METHOD_RE.test(r.method)) throw new RangeError('bad method');
  return serializeHead(`${r.method} ${r.uri} SIP/2.0`, r.headers, r.body ?? '');
}

/** Default reason phrases for the statuses this agent sends (RFC 3261 §21). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  481: 'Call/Transaction Does Not Exist',
  489: 'Bad Event',
  500: 'Server Internal Error',
};

/** Serialises a response (RFC 3261 §7.2); Content-Length as in {@link buildRequest}. */
export function buildResponse(r: { status: number; reason?: string; headers: readonly SipHeader[]; body?: string }): string {
  if (!Number.isInteger(r.status) || r.status < 100 || r.status > 699) throw new RangeError('bad status');
  return serializeHead(`SIP/2.0 ${r.status} ${r.reason ?? REASONS[r.status] ?? 'Unknown'}`, r.headers, r.body ?? '');
}

/** Serialises a parsed or hand-made message. */
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
  return buildResponse(out);
}
