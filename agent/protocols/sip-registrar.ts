/**
 * REGISTER processing for the hot-desk line (RFC 3261 §10.3), pure: the
 * shell authenticates the request (digest, `DigestAuthority`), then hands it
 * here with the line's current binding and gets back the answer and the new
 * binding.
 *
 * One binding per line: a phone has one registration for its hot-desk line,
 * so a new Contact replaces the old one (a REGISTER listing several contacts
 * binds the first one with a non-zero expiry). The binding's *target* is the
 * address and port the REGISTER came from, never the Contact host: that is
 * where check-sync NOTIFYs and in-dialog requests go (NAT-safe, and not a
 * value an attacker chose). The Contact URI is kept for display and as the
 * NOTIFY Request-URI.
 *
 * Steps of RFC 3261 §10.3 done here:
 * - the To URI must be a sip:/sips: URI (400, RFC 4475 `unksm2`) whose user
 *   is the authenticated user (403, step 4: the user may not touch another
 *   AOR);
 * - no Contact: the current binding is listed (a fetch);
 * - `Contact: *` must be alone and come with `Expires: 0` (400), and removes
 *   the binding (step 6);
 * - each contact's expiry is its `expires` parameter, else the Expires
 *   header, else the default (step 7); a malformed or overlarge value counts
 *   as the default (RFC 3261 §20.19, RFC 4475 `scalar02`); a non-zero expiry
 *   below the minimum is refused with 423 and Min-Expires; above the maximum
 *   it is shortened;
 * - a request with the Call-ID of the stored binding and a CSeq not higher
 *   than the stored one is refused (step 7: "the update MUST be aborted and
 *   the request fails"); the RFC names no code: 400, since the request is
 *   stale and repeating it cannot succeed (a 5xx would invite a retry).
 * The 200 lists the binding as `Contact: <uri>;expires=<seconds left>` and
 * carries no Date.
 *
 * Pure module: no I/O; time is a parameter.
 */
import { parseCSeq, parseNameAddr, parseSipUri } from './sip-headers.js';
import { getHeader, getHeaders, type SipHeader, type SipRequest } from './sip-message.js';
import { buildSipResponse, type SipSource } from './sip-response-builder.js';

/** Expiry bounds in seconds. */
export interface RegistrarLimits {
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly defaultExpires: number;
}

/** 60 s minimum, one hour maximum and default. */
export const DEFAULT_REGISTRAR_LIMITS: RegistrarLimits = { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 };

/** The one registration of a hot-desk line. */
export interface RegistrarBinding {
  /** The Contact URI: for display and as a NOTIFY Request-URI only, never as a destination. */
  readonly contact: string;
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  /** Where the REGISTER came from: the destination of everything sent to the phone. */
  readonly address: string;
  readonly port: number;
  readonly transport: string;
  readonly userAgent: string;
}

/** Inputs of {@link processRegister}. */
export interface RegisterInput {
  readonly request: SipRequest;
  /** The user the shell authenticated (digest username of the hot-desk line). */
  readonly username: string;
  readonly source: SipSource & { readonly transport?: string };
  /** The line's binding as stored (an expired one counts as none). */
  readonly current: RegistrarBinding | null;
  readonly now: number;
  readonly limits?: Partial<RegistrarLimits>;
  /** Our To tag for the answer. */
  readonly toTag: string;
  /** Headers every answer carries (e.g. Server). */
  readonly headers?: readonly SipHeader[];
}

/** What a REGISTER changed. */
export type RegisterChange = 'bound' | 'refreshed' | 'removed' | 'fetched' | 'rejected';

/** Outcome of {@link processRegister}. */
export interface RegisterResult {
  readonly status: number;
  /** The answer, ready to send to the request's source. */
  readonly response: string;
  /** The line's binding after this request (the current one, unchanged, when rejected). */
  readonly binding: RegistrarBinding | null;
  readonly change: RegisterChange;
}

const MAX_CONTACT_LENGTH = 1024;
const MAX_USER_AGENT_LENGTH = 256;

/** Processes an authenticated REGISTER (RFC 3261 §10.3; see the module comment). */
export function processRegister(input: RegisterInput): RegisterResult {
  const { request: req, now } = input;
  const limits = { ...DEFAULT_REGISTRAR_LIMITS, ...input.limits };
  const current = input.current && input.current.expiresAt > now ? input.current : null;
  const answer = (status: number, reason: string, binding: RegistrarBinding | null, change: RegisterChange, extra: SipHeader[] = []): RegisterResult => {
    const headers = [...extra, ...(status === 200 && binding ? [{ name: 'Contact', value: `<${binding.contact}>;expires=${secondsLeft(binding, now)}` }] : [])];
    const response = buildSipResponse(req, { status, reason, toTag: input.toTag, source: input.source, headers: [...headers, ...(input.headers ?? [])] });
    return { status, response, binding, change };
  };
  const refuse = (status: number, reason: string, extra: SipHeader[] = []): RegisterResult => answer(status, reason, current, 'rejected', extra);

  const to = parseNameAddr(getHeader(req, 'To') ?? '');
  const aor = to ? parseSipUri(to.uri) : null;
  if (!aor) return refuse(400, 'To is not a SIP URI');
  if (aor.user !== input.username) return refuse(403, 'Forbidden');

  const callId = getHeader(req, 'Call-ID') ?? '';
  const cseq = parseCSeq(getHeader(req, 'CSeq'))?.seq ?? 0;
  const stale = current !== null && current.callId === callId && cseq <= current.cseq;
  const contacts = getHeaders(req, 'Contact');
  if (contacts.length === 0) return answer(200, 'OK', current, 'fetched');

  const headerExpires = getHeader(req, 'Expires');
  if (contacts.includes('*')) {
    if (contacts.length !== 1 || headerExpires?.trim() !== '0') return refuse(400, 'Invalid wildcard Contact');
    if (stale) return refuse(400, 'CSeq out of order');
    return answer(200, 'OK', null, current ? 'removed' : 'fetched');
  }

  const parsed: { uri: string; expires: number }[] = [];
  for (const c of contacts) {
    const na = parseNameAddr(c);
    if (!na || na.uri.length > MAX_CONTACT_LENGTH || !parseSipUri(na.uri)) return refuse(400, 'Invalid Contact');
    parsed.push({ uri: na.uri, expires: expiry(na.params.get('expires') ?? headerExpires, limits) });
  }
  const bind = parsed.find((c) => c.expires > 0);
  if (bind && bind.expires < limits.minExpires) return refuse(423, 'Interval Too Brief', [{ name: 'Min-Expires', value: String(limits.minExpires) }]);
  if (stale) return refuse(400, 'CSeq out of order');
  if (!bind) {
    const removes = current !== null && parsed.some((c) => c.uri === current.contact);
    return answer(200, 'OK', removes ? null : current, removes ? 'removed' : 'fetched');
  }
  const binding: RegistrarBinding = {
    contact: bind.uri,
    expiresAt: now + Math.min(bind.expires, limits.maxExpires) * 1000,
    callId,
    cseq,
    address: input.source.address,
    port: input.source.port,
    transport: input.source.transport ?? 'UDP',
    userAgent: (getHeader(req, 'User-Agent') ?? '').slice(0, MAX_USER_AGENT_LENGTH),
  };
  const refreshed = current !== null && current.contact === binding.contact && current.callId === callId;
  return answer(200, 'OK', binding, refreshed ? 'refreshed' : 'bound');
}

/** A contact's expiry in seconds: the value when it is a sane number, else the default (RFC 3261 §20.19). */
function expiry(value: string | undefined, limits: RegistrarLimits): number {
  const v = value?.trim() ?? '';
  if (!/^\d{1,10}$/.test(v) || Number(v) > 2 ** 32 - 1) return limits.defaultExpires;
  return Number(v);
}

function secondsLeft(b: RegistrarBinding, now: number): number {
  return Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
}
