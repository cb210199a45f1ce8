/**
 * SIP datagram parser (RFC 3261 §7, §18.3), hardened against the RFC 4475
 * torture messages:
 * - the method is kept exactly as sent (RFC 3261 §7.1: methods are
 *   case-sensitive; `invite` is not INVITE);
 * - header names are case-insensitive and may carry white space before the
 *   colon; compact forms are expanded; unknown and extension headers are
 *   kept; folded lines (LWS, RFC 3261 §7.3.1) are joined;
 * - the body is kept as bytes (`bodyBytes`), exactly Content-Length octets:
 *   extra octets after it are discarded (RFC 3261 §18.3, RFC 4475 `dblreq`),
 *   a datagram shorter than Content-Length, a negative or non-numeric
 *   Content-Length and two different Content-Length values are errors
 *   (RFC 4475 `clerr`, `ncl`, `mcl01`);
 * - the request line must be `Method SP Request-URI SP SIP/2.0` with single
 *   spaces (RFC 3261 §7.1; RFC 4475 `lwsstart`, `trws`, `lwsruri`,
 *   `ltgtruri`); another SIP version is refused with 505 (RFC 4475 `badvers`);
 * - a status code must be three digits, 100-699 (RFC 4475 `bigcode`).
 *
 * A malformed *request* (other than an ACK) whose Via, From, To, Call-ID and
 * CSeq could be read comes back with `reply` (the status to answer: 400 or 505, RFC 3261 §18.3,
 * §21.5.6) so the caller can answer it; anything else is to be discarded
 * silently, as RFC 3261 §18.3 wants for responses. Semantic checks (missing
 * headers, CSeq mismatch, URI scheme, Require) are in sip-validate.ts.
 *
 * Pure module: no I/O. Parsing never throws.
 */
import { canonicalHeaderName, getHeader, type SipHeader, type SipMessage, type SipRequest, TOKEN_RE } from './sip-wire.js';

/** The answer a malformed request deserves, with what could be read of it to build that answer. */
export interface SipParseReply {
  /** The request's start line and headers as far as they could be read; empty body. */
  readonly request: SipRequest;
  readonly status: 400 | 505;
  readonly reason: string;
}

/** Outcome of {@link parseSipMessage}. */
export type SipParseResult =
  | { readonly ok: true; readonly message: SipMessage }
  | { readonly ok: false; readonly error: string; readonly reply?: SipParseReply };

/** Largest datagram we look at (a UDP payload cannot exceed it). */
export const MAX_SIP_DATAGRAM = 65_535;

const EMPTY = new Uint8Array(0);

/**
 * Parses one SIP datagram (RFC 3261 §7, §18.3). Accepts CRLF or bare LF line
 * ends, header folding and leading CRLF keep-alives; see the module comment
 * for what is refused and when a `reply` is offered.
 */
export function parseSipMessage(data: Uint8Array | string): SipParseResult {
  try {
    return parseUnsafe(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch {
    return { ok: false, error: 'unparseable message' };
  }
}

type StartLine =
  | { readonly kind: 'request'; readonly method: string; readonly uri: string; readonly error?: string; readonly status?: 400 | 505 }
  | { readonly kind: 'response'; readonly status: number; readonly reason: string }
  | { readonly kind: 'error'; readonly error: string };

function parseUnsafe(buf: Buffer): SipParseResult {
  if (buf.length === 0) return { ok: false, error: 'empty datagram' };
  if (buf.length > MAX_SIP_DATAGRAM) return { ok: false, error: 'datagram too large' };
  // Skip leading CRLFs (keep-alives, RFC 5626 §3.5.1; RFC 3261 §7.5).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) return { ok: false, error: 'keep-alive only' };
  const { headEnd, bodyStart } = findHeadEnd(buf, start);
  const head = buf.subarray(start, headEnd).toString('utf8');
  const [first, ...headerLines] = (head.endsWith('\r') ? head.slice(0, -1) : head).split(/\r?\n/);
  if (!first) return { ok: false, error: 'no start line' };
  const startLine = parseStartLine(first);
  if (startLine.kind === 'error') return { ok: false, error: startLine.error };

  const headers: SipHeader[] = [];
  let headerError: string | undefined;
  for (const line of unfold(headerLines)) {
    const colon = line.indexOf(':');
    const rawName = colon <= 0 ? '' : lwsTrim(line.slice(0, colon));
    if (!TOKEN_RE.test(rawName) || line.includes('\r')) {
      headerError ??= 'malformed header line';
      continue;
    }
    headers.push({ name: canonicalHeaderName(rawName), value: lwsTrim(line.slice(colon + 1)) });
  }

  const rest = bodyStart < 0 ? buf.subarray(buf.length) : buf.subarray(bodyStart);
  const framed = frameBody(headers, rest);
  const error = (startLine.kind === 'request' ? startLine.error : undefined) ?? headerError ?? framed.error;
  if (error !== undefined) {
    if (startLine.kind !== 'request') return { ok: false, error };
    const request: SipRequest = { kind: 'request', method: startLine.method, uri: startLine.uri, headers, bodyBytes: EMPTY, body: '' };
    const status = startLine.error !== undefined ? (startLine.status ?? 400) : 400;
    return answerable(request)
      ? { ok: false, error, reply: { request, status, reason: status === 505 ? 'Version Not Supported' : 'Bad Request' } }
      : { ok: false, error };
  }
  const bodyBytes = new Uint8Array(framed.body);
  const body = Buffer.from(bodyBytes).toString('utf8');
  if (startLine.kind === 'request') return { ok: true, message: { kind: 'request', method: startLine.method, uri: startLine.uri, headers, bodyBytes, body } };
  return { ok: true, message: { kind: 'response', status: startLine.status, reason: startLine.reason, headers, bodyBytes, body } };
}

/** Whether a malformed request gets an answer: never an ACK (RFC 3261 §17.1.1.1); else when §8.2.6 can build one. */
function answerable(req: SipRequest): boolean {
  return req.method !== 'ACK' && ['Via', 'From', 'To', 'Call-ID', 'CSeq'].every((h) => getHeader(req, h) !== undefined);
}

const VERSION_RE = /^SIP\/(\d{1,3}\.\d{1,3})$/i;

function parseStartLine(line: string): StartLine {
  if (/^SIP\//i.test(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; a missing SP before an empty reason is tolerated.
    const m = /^(SIP\/\d{1,3}\.\d{1,3}) (\d+)(?: (.*))?$/i.exec(line);
    if (!m || (m[1] ?? '').slice(4) !== '2.0') return { kind: 'error', error: 'bad status line' };
    const code = m[2] ?? '';
    if (!/^[1-6]\d\d$/.test(code)) return { kind: 'error', error: 'bad status code' };
    return { kind: 'response', status: Number(code), reason: m[3] ?? '' };
  }
  // A request line as loosely as it can be recognised, then checked strictly.
  const loose = /^(\S+)\s+(.*?)\s*(SIP\/\S*)\s*$/i.exec(line);
  if (!loose) return { kind: 'error', error: 'not a SIP start line' };
  const method = loose[1] ?? '';
  const uri = loose[2] ?? '';
  const version = loose[3] ?? '';
  if (!TOKEN_RE.test(method)) return { kind: 'error', error: 'bad method' };
  const strict = /^(\S+) (\S+) (SIP\/\S+)$/.exec(line);
  if (!strict) return { kind: 'request', method, uri, error: 'malformed request line', status: 400 };
  if (!VERSION_RE.test(version)) return { kind: 'request', method, uri, error: 'malformed request line', status: 400 };
  if (version.slice(4) !== '2.0') return { kind: 'request', method, uri, error: 'unsupported SIP version', status: 505 };
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri)) return { kind: 'request', method, uri, error: 'bad Request-URI', status: 400 };
  return { kind: 'request', method, uri };
}

/** Applies Content-Length framing (RFC 3261 §18.3, §20.14): without the header the body is the rest of the datagram. */
function frameBody(headers: readonly SipHeader[], rest: Buffer): { body: Buffer; error?: string } {
  const values = headers.filter((h) => h.name === 'Content-Length').map((h) => h.value);
  if (values.length === 0) return { body: rest };
  if (values.some((v) => !/^\d{1,10}$/.test(v))) return { body: rest, error: 'bad Content-Length' };
  const lengths = new Set(values.map(Number));
  if (lengths.size > 1) return { body: rest, error: 'conflicting Content-Length values' };
  const n = Number(values[0]);
  if (n > rest.length) return { body: rest, error: 'body shorter than Content-Length' };
  return { body: rest.subarray(0, n) };
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

/**
 * Joins continuation lines (leading SP/HT) to the header line before with one
 * space (RFC 3261 §7.3.1). A continuation with no header before it stays a
 * line of its own (and fails as a malformed header line).
 */
function unfold(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      out[out.length - 1] = `${lwsTrim(out[out.length - 1] ?? '')} ${lwsTrim(line)}`;
    } else {
      out.push(line);
    }
  }
  return out;
}

/** Trims SP and HT only (RFC 3261 LWS): `String.prototype.trim` would also eat a U+FEFF that is part of a value. */
function lwsTrim(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}
