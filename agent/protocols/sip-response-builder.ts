/**
 * Responses of the agent's SIP server side (registrar, calls) per RFC 3261
 * §8.2.6: Via (all, in order), From, To (with our tag on every answer but
 * 100), Call-ID and CSeq copied from the request; the top Via stamped with
 * `received` and `rport` (RFC 3261 §18.2.1, RFC 3581 §4) from the address
 * the datagram came from; then the caller's headers (Contact,
 * WWW-Authenticate, Allow, Supported, Min-Expires, Expires, Content-Type,
 * Server, ...) and body.
 *
 * Where answers go: see {@link responseDestination}.
 *
 * Pure module: no I/O.
 */
import { formatHost, parseVia } from './sip-headers.js';
import { buildResponseTo, getHeader, getHeaders, type SipHeader, type SipRequest } from './sip-message.js';

/** Where a datagram came from (the socket's view, not a header's). */
export interface SipSource {
  readonly address: string;
  readonly port: number;
}

/** What to answer. */
export interface SipResponseSpec {
  readonly status: number;
  /** Reason phrase; the standard one by default. */
  readonly reason?: string;
  /** Our To tag, added when the request's To has none; never on a 100 (RFC 3261 §8.2.6.2). */
  readonly toTag?: string;
  readonly headers?: readonly SipHeader[];
  readonly body?: string;
  /** The request's source: stamps the top Via with `received`/`rport`. */
  readonly source?: SipSource;
}

/**
 * Builds the response to `req` (RFC 3261 §8.2.6). A 100 Trying gets no To
 * tag and copies the request's Timestamp (§8.2.6.1).
 */
export function buildSipResponse(req: SipRequest, spec: SipResponseSpec): string {
  const vias = getHeaders(req, 'Via');
  const stamped = spec.source && vias.length > 0 ? [stampVia(vias[0] ?? '', spec.source), ...vias.slice(1)] : vias;
  const extra: SipHeader[] = [];
  const timestamp = getHeader(req, 'Timestamp');
  if (spec.status === 100 && timestamp !== undefined) extra.push({ name: 'Timestamp', value: timestamp });
  extra.push(...(spec.headers ?? []));
  const viaFree = req.headers.filter((h) => h.name !== 'Via');
  const r: { status: number; reason?: string; toTag?: string; headers: SipHeader[]; body?: string } = { status: spec.status, headers: extra };
  if (spec.reason !== undefined) r.reason = spec.reason;
  if (spec.toTag !== undefined && spec.status !== 100) r.toTag = spec.toTag;
  if (spec.body !== undefined) r.body = spec.body;
  return buildResponseTo({ ...req, headers: [...stamped.map((value) => ({ name: 'Via', value })), ...viaFree] }, r);
}

/**
 * Adds what the server saw to a Via value: `received=<address>` when the
 * sent-by host is not that address or when the client asked for `rport`
 * (RFC 3261 §18.2.1, RFC 3581 §4), and the port in place of a value-less
 * `rport`. A Via that does not parse is returned unchanged.
 */
export function stampVia(via: string, source: SipSource): string {
  const parsed = parseVia(via);
  if (!parsed) return via;
  const semi = via.indexOf(';');
  const base = (semi < 0 ? via : via.slice(0, semi)).trimEnd();
  const params = semi < 0 ? [] : via.slice(semi + 1).split(';');
  const wantsRport = parsed.rport !== undefined;
  const host = parsed.host.replace(/^\[|\]$/g, '').toLowerCase();
  const addReceived = wantsRport || host !== source.address.toLowerCase();
  const out: string[] = [];
  for (const p of params) {
    const name = (p.split('=')[0] ?? '').trim().toLowerCase();
    if (name === 'received' && addReceived) continue;
    out.push(name === 'rport' ? `rport=${source.port}` : p.trim());
  }
  // received is an address, brackets-free for IPv6 (RFC 3261 §25.1 `received = IPv4address / IPv6address`).
  if (addReceived) out.push(`received=${formatHost(source.address).replace(/^\[|\]$/g, '')}`);
  return [base, ...out].join(';');
}

/**
 * Where to send a response or an in-dialog request: always the request's
 * source address and port (RFC 3581 behaviour, applied whether or not the
 * client asked for `rport`). The agent never sends to an address taken from
 * a Via, Contact, Route or any other header of a request, and certainly not
 * of an unauthenticated one: a forged header must not steer the agent's
 * traffic at a third party, and NAT-ed phones are reached on the flow they
 * opened.
 */
export function responseDestination(_req: SipRequest, source: SipSource): SipSource {
  return { address: source.address, port: source.port };
}
