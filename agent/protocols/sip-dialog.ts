/**
 * The UAS side of a SIP dialog (RFC 3261 §12): its identifiers and state as
 * created from an INVITE (§12.1.1), matching of requests to it, the requests
 * the agent sends inside it (§12.2.1.1: Request-URI, Route, From/To, CSeq),
 * and the answers given to INVITEs and requests outside any dialog
 * (`rejectInvite`, `noDialogResponse`).
 *
 * Pure module: no I/O; branches and tags are parameters.
 */
import { formatHost, parseCSeq, parseNameAddr, parseSipUri } from './sip-headers.js';
import { buildRequest, getHeader, getHeaders, type SipHeader, type SipRequest, toBranch } from './sip-message.js';
import { buildSipResponse, type SipSource } from './sip-response-builder.js';

/** Methods the hot-desk line accepts inside a call (the Allow header of its answers). */
export const CALL_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO';

/** Dialog state of the UAS (RFC 3261 §12.1.1). */
export interface SipDialog {
  readonly callId: string;
  readonly localTag: string;
  /** The caller's From tag ('' for an RFC 2543 peer that sent none). */
  readonly remoteTag: string;
  /** The INVITE's To value with our tag: our From in requests, our To in answers. */
  readonly localAddress: string;
  /** The INVITE's From value (with its tag): our To in requests. */
  readonly remoteAddress: string;
  /** The caller's Contact URI; updated by a re-INVITE (target refresh, §12.2.2). */
  readonly remoteTarget: string;
  /** Record-Route URIs of the INVITE, in order (§12.1.1: the UAS keeps them in order). */
  readonly routeSet: readonly string[];
  /** Last CSeq number we used (0: none yet). */
  readonly localCSeq: number;
  /** Highest CSeq number received in the dialog. */
  readonly remoteCSeq: number;
}

/** The tag parameter of a From/To value, or '' when it has none. */
export function addressTag(value: string | undefined): string {
  return parseNameAddr(value ?? '')?.params.get('tag') ?? '';
}

/**
 * The dialog an INVITE creates, with our tag `localTag`; null when the INVITE
 * has no usable Contact (a sip:/sips: URI: RFC 3261 §8.1.1.8) or no CSeq.
 */
export function dialogFromInvite(invite: SipRequest, localTag: string): SipDialog | null {
  const contact = parseNameAddr(getHeader(invite, 'Contact') ?? '');
  const cseq = parseCSeq(getHeader(invite, 'CSeq'));
  const to = getHeader(invite, 'To');
  const from = getHeader(invite, 'From');
  if (!contact || !parseSipUri(contact.uri) || !cseq || to === undefined || from === undefined) return null;
  const routeSet = getHeaders(invite, 'Record-Route').map((rr) => parseNameAddr(rr)?.uri ?? '');
  if (routeSet.some((u) => !parseSipUri(u))) return null;
  return {
    callId: getHeader(invite, 'Call-ID') ?? '',
    localTag,
    remoteTag: addressTag(from),
    localAddress: addressTag(to) ? to : `${to};tag=${localTag}`,
    remoteAddress: from,
    remoteTarget: contact.uri,
    routeSet,
    localCSeq: 0,
    remoteCSeq: cseq.seq,
  };
}

/** Whether `req` belongs to the dialog: same Call-ID, From tag and To tag (§12.2.2). */
export function matchesDialog(d: SipDialog, req: SipRequest): boolean {
  return getHeader(req, 'Call-ID') === d.callId && addressTag(getHeader(req, 'From')) === d.remoteTag && addressTag(getHeader(req, 'To')) === d.localTag;
}

/** Where our requests go on the wire and what they carry. */
export interface LocalRequestOptions {
  /** Our address as written in Via (sent-by). */
  readonly local: { readonly host: string; readonly port: number };
  readonly branch: string;
  readonly userAgent?: string;
  readonly headers?: readonly SipHeader[];
  readonly body?: string;
}

/**
 * Builds the next request of the dialog (§12.2.1.1): CSeq one above the last
 * we used; Request-URI the remote target, or with a strict-routing first hop
 * (no `lr`) that hop, the target then going last in Route. The datagram goes
 * to the dialog's flow whatever the Route says (see responseDestination).
 */
export function buildDialogRequest(d: SipDialog, method: string, o: LocalRequestOptions): { dialog: SipDialog; wire: string; cseq: number; branch: string } {
  const cseq = d.localCSeq + 1;
  const branch = toBranch(o.branch);
  const strict = d.routeSet.length > 0 && !parseSipUri(d.routeSet[0] ?? '')?.params.has('lr');
  const uri = strict ? stripUriHeaders(d.routeSet[0] ?? '') : d.remoteTarget;
  const routes = strict ? [...d.routeSet.slice(1), d.remoteTarget] : d.routeSet;
  const headers: SipHeader[] = [
    { name: 'Via', value: `SIP/2.0/UDP ${formatHost(o.local.host)}:${o.local.port};branch=${branch};rport` },
    { name: 'Max-Forwards', value: '70' },
    ...routes.map((r) => ({ name: 'Route', value: `<${r}>` })),
    { name: 'From', value: d.localAddress },
    { name: 'To', value: d.remoteAddress },
    { name: 'Call-ID', value: d.callId },
    { name: 'CSeq', value: `${cseq} ${method}` },
    ...(o.userAgent ? [{ name: 'User-Agent', value: o.userAgent }] : []),
    ...(o.headers ?? []),
  ];
  const wire = buildRequest({ method, uri, headers, ...(o.body !== undefined ? { body: o.body } : {}) });
  return { dialog: { ...d, localCSeq: cseq }, wire, cseq, branch };
}

function stripUriHeaders(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

/**
 * The final answer to an INVITE refused before any dialog exists: 401 with
 * the digest challenge, 403, 404, 486 Busy Here at the call limit, 302 with
 * a Contact (emergency redirect), 503 with Retry-After, ... `extraHeaders`
 * carries those headers; `toTag` is our tag (RFC 3261 §8.2.6.2). Pass the
 * answer to the INVITE's server transaction, which retransmits it until the
 * ACK (§17.2.1).
 */
export function rejectInvite(
  invite: SipRequest,
  status: number,
  reason: string,
  extraHeaders: readonly SipHeader[],
  toTag: string,
  source?: SipSource,
): string {
  if (status < 300 || status > 699) throw new RangeError('rejectInvite needs a 3xx-6xx status');
  return buildSipResponse(invite, { status, reason, toTag, headers: extraHeaders, ...(source ? { source } : {}) });
}

/**
 * The 481 Call/Transaction Does Not Exist for a request carrying a To tag
 * that matches no dialog of ours (RFC 3261 §12.2.2), or null for an ACK,
 * which is never answered.
 */
export function noDialogResponse(req: SipRequest, source?: SipSource, headers: readonly SipHeader[] = []): string | null {
  if (req.method === 'ACK') return null;
  return buildSipResponse(req, { status: 481, headers, ...(source ? { source } : {}) });
}
