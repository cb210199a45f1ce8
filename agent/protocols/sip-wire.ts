/**
 * SIP message model (RFC 3261 §7): the parsed request/response types, header
 * name canonicalisation (compact forms, RFC 3261 §7.3.3), header lookup with
 * comma-list splitting (RFC 3261 §7.3.1) and the text view of a body.
 *
 * The parser lives in sip-parse.ts and the builders in sip-message.ts, which
 * re-exports everything here: importers use sip-message.ts.
 *
 * Pure module: no I/O.
 */

/** One header field line as received or to be sent (name in canonical long form). */
export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

interface SipMessageBase {
  /** Header fields in wire order; compact names are expanded (RFC 3261 §7.3.3); unknown headers are kept. */
  readonly headers: readonly SipHeader[];
  /** The body exactly as received: Content-Length octets when that header is present (RFC 3261 §18.3). */
  readonly bodyBytes: Uint8Array;
  /**
   * The body decoded as UTF-8. Exact for text bodies (SDP, dtmf-relay, plain
   * text); lossy for binary ones (multipart with binary parts): use
   * {@link bodyText} or `bodyBytes` when the content type matters.
   */
  readonly body: string;
}

/** A parsed SIP request (RFC 3261 §7.1). The method is kept exactly as sent: methods are case-sensitive. */
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
    'Content-Disposition',
    'Max-Forwards',
    'Event',
    'Subscription-State',
    'Expires',
    'Min-Expires',
    'User-Agent',
    'Server',
    'Allow',
    'Allow-Events',
    'Supported',
    'Unsupported',
    'Require',
    'Proxy-Require',
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
    'Timestamp',
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
  'unsupported',
  'require',
  'proxy-require',
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

/** RFC 3261 §25.1 `token`: what a method, header name or option tag may be made of. */
export const TOKEN_RE = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** Expands a compact header name and fixes the case of known names (unknown names are kept as sent). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const long = name.length === 1 ? COMPACT[lower] : undefined;
  if (long) return long;
  return CANONICAL.get(lower) ?? name;
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

/** Number of header lines carrying `name` (a list written on one line counts once). */
export function countHeaderLines(msg: { readonly headers: readonly SipHeader[] }, name: string): number {
  const want = canonicalHeaderName(name).toLowerCase();
  return msg.headers.filter((h) => h.name.toLowerCase() === want).length;
}

/** The media type of a message (`type/subtype`, lowercased, parameters dropped), or '' without Content-Type. */
export function contentType(msg: { readonly headers: readonly SipHeader[] }): string {
  const v = getHeader(msg, 'Content-Type') ?? '';
  return (v.split(';')[0] ?? '').trim().toLowerCase();
}

const TEXT_TYPES = new Set(['application/sdp', 'application/dtmf-relay', 'application/dtmf', 'application/xml', 'application/json', 'message/sipfrag']);

/**
 * The body as text when its content type is textual (`text/*`, SDP, DTMF
 * INFO bodies, XML, JSON, sipfrag) and it is valid UTF-8; '' for an empty
 * body; null for a binary or undecodable body (e.g. RFC 4475 `mpart01`).
 */
export function bodyText(msg: SipMessage): string | null {
  if (msg.bodyBytes.length === 0) return '';
  const type = contentType(msg);
  if (!(type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+xml'))) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(msg.bodyBytes);
  } catch {
    return null;
  }
}
