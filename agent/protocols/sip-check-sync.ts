/**
 * The check-sync NOTIFY (docs/vendors.md "Check-sync"): the out-of-dialog
 * request that makes a phone re-fetch its configuration, and its
 * Request-URI (also the digest `uri` when the phone challenges it).
 *
 * Pure module like sip-message.ts: every random token is a parameter.
 */
import { buildRequest, type SipHeader, toBranch } from './sip-message.js';
import { escapeSipUser, formatHost } from './sip-headers.js';

/** Inputs of {@link buildCheckSyncNotify}; every random token is supplied by the caller. */
export interface CheckSyncNotifyInput {
  readonly target: { readonly host: string; readonly port: number };
  /** User part of the Request-URI: the line user, device account or MAC. */
  readonly requestUser: string;
  /** Our address as the phone should answer it (Via sent-by, From host). */
  readonly local: { readonly host: string; readonly port: number };
  /** Event header value: `check-sync`, `check-sync;reboot=false` (Snom), ... */
  readonly event: string;
  readonly branch: string;
  readonly fromTag: string;
  readonly callId: string;
  readonly cseq: number;
  /** A digest answer to a 401 (`Authorization`) or 407 (`Proxy-Authorization`). */
  readonly authorization?: { readonly header: 'Authorization' | 'Proxy-Authorization'; readonly value: string };
  readonly userAgent?: string;
}

/** The Request-URI of a check-sync NOTIFY: `sip:<user>@<host>:<port>` (also the digest `uri`). */
export function checkSyncRequestUri(target: { readonly host: string; readonly port: number }, requestUser: string): string {
  return `sip:${escapeSipUser(requestUser)}@${formatHost(target.host)}:${target.port}`;
}

/**
 * Builds the out-of-dialog NOTIFY that makes a phone re-fetch its
 * configuration (docs/vendors.md "Check-sync"; RFC 3265 §3.2
 * with `Subscription-State: terminated`; Via with rport per RFC 3581 so the
 * answer comes back to our socket's address and port).
 */
export function buildCheckSyncNotify(n: CheckSyncNotifyInput): string {
  const local = `${formatHost(n.local.host)}:${n.local.port}`;
  const uri = checkSyncRequestUri(n.target, n.requestUser);
  const headers: SipHeader[] = [
    { name: 'Via', value: `SIP/2.0/UDP ${local};branch=${toBranch(n.branch)};rport` },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: `<sip:hotdesk@${local}>;tag=${n.fromTag}` },
    { name: 'To', value: `<${uri}>` },
    { name: 'Call-ID', value: n.callId },
    { name: 'CSeq', value: `${n.cseq} NOTIFY` },
    { name: 'Event', value: n.event },
    { name: 'Subscription-State', value: 'terminated' },
  ];
  if (n.authorization) headers.push({ name: n.authorization.header, value: n.authorization.value });
  if (n.userAgent) headers.push({ name: 'User-Agent', value: n.userAgent });
  return buildRequest({ method: 'NOTIFY', uri, headers });
}
