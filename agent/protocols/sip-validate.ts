/**
 * Semantic checks a UAS or registrar makes on a parsed message before acting
 * on it (RFC 3261 §8.1.1, §8.2.1-§8.2.2, §16.3 for Max-Forwards), with the
 * answers RFC 4475 expects from its torture messages:
 * - missing To/From/Call-ID/CSeq/Via, or a single-valued header repeated:
 *   400 (`insuf`, `multi01`);
 * - malformed Via, From, To or Contact (empty parameters, unbalanced quotes,
 *   an unquoted display name with non-token characters, spaces inside `<>`,
 *   an addr-spec holding `?` or `,` outside `<>`): 400 (`badinv01`,
 *   `quotbal`, `baddn`, `badaspec`, `regbadct`);
 * - a top Via branch that is only the magic cookie: 400 (`badbranch`); a top
 *   Via without branch is an RFC 2543 peer and is accepted (`inv2543`);
 * - CSeq not a number below 2**31 or its method differing from the request's
 *   (case-sensitive): 400 (`scalar02`, `mismatch01`);
 * - a method this element does not implement: 405 when it is a method the
 *   agent knows, 501 otherwise, both with Allow (RFC 3261 §8.2.1, §21.5.2;
 *   `intmeth`, `esc02`, `mismatch02`);
 * - a Request-URI scheme other than sip/sips: 416 (`unkscm`, `novelsc`); a
 *   Request-URI carrying `?headers`: 400 (`escruri`, RFC 3261 §19.1.5);
 * - a Require option tag not supported: 420 with Unsupported (§8.2.2.3,
 *   `bext01`); Proxy-Require is for proxies and ignored;
 * - Max-Forwards 0 on a request not addressed to this element: 483; for us
 *   it is processed as usual (`zeromf`);
 * - an INVITE whose Accept excludes SDP: 406 (`sdp01`).
 *
 * Pure module: no I/O.
 */
import { parseCSeq, parseSipUri, parseVia } from './sip-headers.js';
import { countHeaderLines, getHeader, getHeaders, type SipHeader, type SipRequest, type SipResponse } from './sip-wire.js';

/** Methods the agent implements somewhere (registrar, calls, PnP, check-sync): refused elsewhere with 405, not 501. */
export const AGENT_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'REGISTER', 'SUBSCRIBE', 'NOTIFY'];

/** What the element receiving the request implements. */
export interface RequestCheckOptions {
  /** Methods allowed here (the Allow header of a 405/501); absent: no method check. */
  readonly allow?: readonly string[];
  /** Methods recognised but maybe not allowed here (405 rather than 501); default {@link AGENT_METHODS}. */
  readonly known?: readonly string[];
  /** Option tags this element supports (RFC 3261 §8.2.2.3); default none. */
  readonly supported?: readonly string[];
  /** Whether the request is addressed to this element (default true): only a request to forward gets 483 for Max-Forwards 0. */
  readonly forUs?: boolean;
}

/** The response a request deserves instead of being processed. */
export interface RequestRejection {
  readonly status: number;
  readonly reason: string;
  /** Headers the response must carry (Allow, Unsupported, Accept). */
  readonly headers: readonly SipHeader[];
}

const SINGLE_VALUED = ['To', 'From', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires'];

const reject = (status: number, reason: string, headers: readonly SipHeader[] = []): RequestRejection => ({ status, reason, headers });

/**
 * Checks a parsed request the way a UAS/registrar must before processing it
 * (see the module comment for each answer); null when it may be processed.
 */
export function validateRequest(req: SipRequest, opts: RequestCheckOptions = {}): RequestRejection | null {
  for (const h of ['Via', 'To', 'From', 'Call-ID', 'CSeq']) if (getHeader(req, h) === undefined) return reject(400, `Missing ${h}`);
  for (const h of SINGLE_VALUED) if (countHeaderLines(req, h) > 1) return reject(400, `Multiple ${h} values`);
  const vias = getHeaders(req, 'Via');
  if (!vias.every(wellFormedVia)) return reject(400, 'Malformed Via');
  if (parseVia(vias[0] ?? '')?.branch === 'z9hG4bK') return reject(400, 'Missing transaction identifier');
  for (const h of ['To', 'From']) if (!wellFormedAddress(getHeader(req, h) ?? '')) return reject(400, `Malformed ${h}`);
  const contacts = getHeaders(req, 'Contact');
  const star = contacts.length === 1 && contacts[0] === '*';
  if (!star && !contacts.every((c) => wellFormedAddress(c))) return reject(400, 'Malformed Contact');
  if (!/^\S+$/.test(getHeader(req, 'Call-ID') ?? '')) return reject(400, 'Malformed Call-ID');
  const cseq = parseCSeq(getHeader(req, 'CSeq'));
  if (!cseq) return reject(400, 'Malformed CSeq');
  const maxForwards = getHeader(req, 'Max-Forwards');
  if (maxForwards !== undefined && !/^\d{1,10}$/.test(maxForwards)) return reject(400, 'Malformed Max-Forwards');

  if (opts.allow && !opts.allow.includes(req.method)) {
    const allow = [{ name: 'Allow', value: opts.allow.join(', ') }];
    return (opts.known ?? AGENT_METHODS).includes(req.method) ? reject(405, 'Method Not Allowed', allow) : reject(501, 'Not Implemented', allow);
  }
  if (cseq.method !== req.method) return reject(400, 'CSeq method does not match');

  const scheme = (/^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(req.uri)?.[1] ?? '').toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return reject(416, 'Unsupported URI Scheme');
  const ruri = parseSipUri(req.uri);
  if (!ruri) return reject(400, 'Malformed Request-URI');
  if (ruri.headers !== undefined) return reject(400, 'Headers in Request-URI');

  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const supported = new Set((opts.supported ?? []).map((t) => t.toLowerCase()));
    const unsupported = getHeaders(req, 'Require').filter((t) => !supported.has(t.toLowerCase()));
    if (unsupported.length > 0) return reject(420, 'Bad Extension', [{ name: 'Unsupported', value: unsupported.join(', ') }]);
  }
  // A value above 255 is treated as absent (RFC 4475 §3.1.2.4 allows it).
  if (maxForwards !== undefined && Number(maxForwards) === 0 && opts.forUs === false) return reject(483, 'Too Many Hops');
  if (req.method === 'INVITE' && !acceptsSdp(getHeaders(req, 'Accept'))) return reject(406, 'Not Acceptable', [{ name: 'Accept', value: 'application/sdp' }]);
  return null;
}

/** Whether an Accept list admits an SDP answer (absent Accept means application/sdp, RFC 3261 §20.1). */
function acceptsSdp(accept: readonly string[]): boolean {
  if (accept.length === 0) return true;
  return accept.some((a) => ['application/sdp', 'application/*', '*/*'].includes((a.split(';')[0] ?? '').trim().toLowerCase()));
}

/**
 * Checks a response before it is matched to one of our client transactions
 * (RFC 3261 §8.1.3.3, §18.1.2): null when usable, else why it is discarded.
 * A response with more than one Via was not meant for us (RFC 4475 `bcast`);
 * one with an out-of-range CSeq is discarded (`scalarlg`).
 */
export function validateResponse(res: SipResponse): string | null {
  for (const h of ['Via', 'To', 'From', 'Call-ID', 'CSeq']) if (getHeader(res, h) === undefined) return `missing ${h}`;
  if (getHeaders(res, 'Via').length !== 1) return 'more than one Via';
  if (!parseCSeq(getHeader(res, 'CSeq'))) return 'malformed CSeq';
  if (!parseVia(getHeader(res, 'Via') ?? '')) return 'malformed Via';
  return null;
}

/**
 * Whether the top Via has no RFC 3261 branch (no magic cookie): an RFC 2543
 * peer, whose requests are matched by the RFC 3261 §17.2.3 fallback and whose
 * responses are tolerated. Used to flag such peers.
 */
export function isRfc2543Via(msg: { readonly headers: readonly SipHeader[] }): boolean {
  return !(parseVia(getHeader(msg, 'Via') ?? '')?.branch ?? '').startsWith('z9hG4bK');
}

const TOKEN_WORDS_RE = /^[A-Za-z0-9.!%*_+`'~-]+(?:\s+[A-Za-z0-9.!%*_+`'~-]+)*$/;
const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;

/** A Via value: parseable and without empty parameters. */
function wellFormedVia(value: string): boolean {
  if (!parseVia(value)) return false;
  const semi = value.indexOf(';');
  return semi < 0 || wellFormedParams(value.slice(semi));
}

/**
 * A From/To/Contact value per RFC 3261 §20.10/§25.1: `[display-name] <URI>`
 * or an addr-spec, then `;param` items. The display name is a quoted string
 * or tokens; nothing but the URI inside `<>`; an addr-spec may not hold `?`
 * or `,` (it would need `<>`).
 */
function wellFormedAddress(value: string): boolean {
  let v = value.trim();
  let display = false;
  if (v.startsWith('"')) {
    const end = closingQuote(v);
    if (end < 0) return false;
    v = v.slice(end + 1).trimStart();
    display = true;
  }
  const lt = v.indexOf('<');
  if (lt >= 0 || display) {
    if (lt < 0) return false;
    const name = v.slice(0, lt).trim();
    if (display ? name !== '' : name !== '' && !TOKEN_WORDS_RE.test(name)) return false;
    const gt = v.indexOf('>', lt);
    if (gt < 0 || !URI_RE.test(v.slice(lt + 1, gt))) return false;
    return wellFormedParams(v.slice(gt + 1));
  }
  const semi = v.indexOf(';');
  const uri = (semi < 0 ? v : v.slice(0, semi)).trim();
  if (!URI_RE.test(uri) || /[?,]/.test(uri)) return false;
  return semi < 0 || wellFormedParams(v.slice(semi));
}

/** Index of the quote closing the quoted string `s` starts with (backslash escapes any octet), or -1. */
function closingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/** `*( SEMI param )` with LWS allowed around `;` and `=`; an empty parameter is malformed. */
function wellFormedParams(text: string): boolean {
  let rest = text.trim();
  while (rest !== '') {
    if (!rest.startsWith(';')) return false;
    rest = rest.slice(1).trimStart();
    const name = /^[A-Za-z0-9.!%*_+`'~-]+/.exec(rest)?.[0];
    if (!name) return false;
    rest = rest.slice(name.length).trimStart();
    if (rest.startsWith('=')) {
      rest = rest.slice(1).trimStart();
      if (rest.startsWith('"')) {
        const end = closingQuote(rest);
        if (end < 0) return false;
        rest = rest.slice(end + 1).trimStart();
      } else {
        const val = /^[^\s;,"]+/.exec(rest)?.[0];
        if (!val) return false;
        rest = rest.slice(val.length).trimStart();
      }
    }
  }
  return true;
}
