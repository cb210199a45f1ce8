/**
 * SIP plug-and-play provisioning discovery (docs/vendors.md "SIP PnP";
 * the ua-profile event package of RFC 6080 §4.1 as Yealink and Snom phones
 * use it): a booting phone multicasts `SUBSCRIBE sip:MAC%3a<mac>@<domain>`
 * to 224.0.1.75:5060 with `Event: ua-profile;profile-type="device";
 * vendor=..;model=..;version=..`; a provisioning server answers 200 OK and then
 * sends a NOTIFY whose `application/url` body is the provisioning URL. The
 * Contact is the NOTIFY's Request-URI (text only): where the datagrams go is
 * the shell's choice, and the agent's responder answers only the SUBSCRIBE's
 * source address and port, never a Contact host (which may name a third
 * party, or a name to resolve).
 *
 * Pure module: recognise the SUBSCRIBE and build the two answers. Tags,
 * branches and addresses are parameters.
 */
import { normalizeMac, VENDORS, type Vendor } from '../core/model.js';
import {
  buildRequest,
  buildResponseTo,
  formatHost,
  getHeader,
  parseCSeq,
  parseNameAddr,
  parseParams,
  parseSipUri,
  toBranch,
  type SipHeader,
  type SipRequest,
} from './sip-message.js';

/** The SIP PnP multicast group (IANA "SIP" 224.0.1.75). */
export const PNP_MULTICAST_GROUP = '224.0.1.75';

/** A recognised PnP SUBSCRIBE. */
export interface PnpRequest {
  /** 12 lowercase hex digits. */
  readonly mac: string;
  /** Vendor as the phone wrote it (`snom`, `Yealink`, ...). */
  readonly vendor: string;
  /** The vendor when it is one this agent drives, else null. */
  readonly vendorId: Vendor | null;
  readonly model: string;
  readonly version: string;
  /** `profile-type` (normally `device`). */
  readonly profileType: string;
  /** The Event header value, echoed in the NOTIFY. */
  readonly event: string;
  /** The NOTIFY's Request-URI: the Contact URI (else the From URI). Not a destination (see the module comment). */
  readonly contactUri: string;
  /** Requested subscription duration (Expires header), when given. */
  readonly expires?: number;
}

/** Why a datagram was not a PnP SUBSCRIBE (for counters). */
export type PnpRejectReason = 'not-subscribe' | 'not-ua-profile' | 'no-mac' | 'malformed';

/** Outcome of {@link recognisePnpSubscribe}. */
export type PnpRecognition = { readonly ok: true; readonly pnp: PnpRequest } | { readonly ok: false; readonly reason: PnpRejectReason };

/** Maps the vendor token phones send to the agent's vendor id. */
export function pnpVendorId(vendor: string): Vendor | null {
  const v = vendor.trim().toLowerCase();
  if (v.startsWith('polycom') || v.startsWith('poly')) return 'poly';
  return (VENDORS as readonly string[]).includes(v) ? (v as Vendor) : null;
}

/**
 * Extracts the MAC from the Request-URI user part: `MAC%3a<mac>` (escaped
 * or not, any case, with or without separators) or a bare 12-hex user.
 */
export function macFromPnpUri(uri: string): string | null {
  // An unescaped `MAC:` would read as user:password in a URI; take it as the phone meant it.
  const raw = /^sips?:mac(?::|%3a)([0-9a-f:.-]{12,17})@/i.exec(uri.trim());
  if (raw) return normalizeMac(raw[1] ?? '');
  const parsed = parseSipUri(uri);
  const user = parsed?.user;
  if (!user) return null;
  const m = /^mac:(.+)$/i.exec(user);
  return normalizeMac(m ? (m[1] ?? '') : user);
}

/** Recognises a ua-profile device SUBSCRIBE (RFC 6080 §4.1) and extracts phone facts. */
export function recognisePnpSubscribe(req: SipRequest): PnpRecognition {
  if (req.method !== 'SUBSCRIBE') return { ok: false, reason: 'not-subscribe' };
  const event = getHeader(req, 'Event');
  if (!event) return { ok: false, reason: 'not-ua-profile' };
  const semi = event.indexOf(';');
  const pkg = (semi < 0 ? event : event.slice(0, semi)).trim().toLowerCase();
  if (pkg !== 'ua-profile') return { ok: false, reason: 'not-ua-profile' };
  const params = parseParams(semi < 0 ? '' : event.slice(semi));
  const profileType = params.get('profile-type') ?? 'device';
  if (profileType.toLowerCase() !== 'device') return { ok: false, reason: 'not-ua-profile' };
  const mac = macFromPnpUri(req.uri);
  if (!mac) return { ok: false, reason: 'no-mac' };
  if (!getHeader(req, 'Via') || !getHeader(req, 'Call-ID') || !parseCSeq(getHeader(req, 'CSeq'))) {
    return { ok: false, reason: 'malformed' };
  }
  const from = parseNameAddr(getHeader(req, 'From') ?? '');
  const to = parseNameAddr(getHeader(req, 'To') ?? '');
  if (!from || !to) return { ok: false, reason: 'malformed' };
  const contact = parseNameAddr(getHeader(req, 'Contact') ?? '');
  const contactUri = contact?.uri ?? from.uri;
  if (!parseSipUri(contactUri)) return { ok: false, reason: 'malformed' };
  const vendor = params.get('vendor') ?? '';
  const pnp: { -readonly [K in keyof PnpRequest]: PnpRequest[K] } = {
    mac,
    vendor,
    vendorId: pnpVendorId(vendor),
    model: params.get('model') ?? '',
    version: params.get('version') ?? '',
    profileType,
    event,
    contactUri,
  };
  const expires = getHeader(req, 'Expires');
  if (expires !== undefined && /^\d{1,10}$/.test(expires.trim())) pnp.expires = Number(expires.trim());
  return { ok: true, pnp };
}

/**
 * The 200 OK to the SUBSCRIBE (RFC 6665 §4.2.1.1): Via/From/To/Call-ID/CSeq
 * copied, our tag on To, `Expires` (0 by default: the subscription ends with
 * the one NOTIFY), and a Contact for the dialog.
 */
export function buildPnpOk(req: SipRequest, o: { toTag: string; contact: { host: string; port: number }; expires?: number }): string {
  return buildResponseTo(req, {
    status: 200,
    toTag: o.toTag,
    headers: [
      { name: 'Expires', value: String(o.expires ?? 0) },
      { name: 'Contact', value: `<sip:${formatHost(o.contact.host)}:${o.contact.port}>` },
    ],
  });
}

/** Inputs of {@link buildPnpNotify}. */
export interface PnpNotifyInput {
  readonly request: SipRequest;
  readonly pnp: PnpRequest;
  /** Our address (Via sent-by, Contact). */
  readonly local: { readonly host: string; readonly port: number };
  /** The tag we put on To in the 200 OK (our From tag in the dialog). */
  readonly toTag: string;
  readonly branch: string;
  readonly cseq: number;
  /** The provisioning URL the phone should use. */
  readonly url: string;
}

/**
 * The NOTIFY carrying the provisioning URL (RFC 6080 §4.1, RFC 6665 §4.2.2),
 * sent in the dialog the SUBSCRIBE created: Request-URI = the phone's
 * Contact, From = the SUBSCRIBE's To plus our tag, To = its From, same
 * Call-ID, `Subscription-State: terminated;reason=timeout`,
 * `Content-Type: application/url`.
 */
export function buildPnpNotify(n: PnpNotifyInput): string {
  if (/[\r\n\0\s]/.test(n.url)) throw new RangeError('provisioning URL contains whitespace or control characters');
  const req = n.request;
  const local = `${formatHost(n.local.host)}:${n.local.port}`;
  const to = getHeader(req, 'To') ?? '';
  const hasTag = parseNameAddr(to)?.params.has('tag') ?? false;
  const headers: SipHeader[] = [
    { name: 'Via', value: `SIP/2.0/UDP ${local};branch=${toBranch(n.branch)};rport` },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: hasTag ? to : `${to};tag=${n.toTag}` },
    { name: 'To', value: getHeader(req, 'From') ?? '' },
    { name: 'Call-ID', value: getHeader(req, 'Call-ID') ?? '' },
    { name: 'CSeq', value: `${n.cseq} NOTIFY` },
    { name: 'Contact', value: `<sip:${local}>` },
    { name: 'Event', value: n.pnp.event },
    { name: 'Subscription-State', value: 'terminated;reason=timeout' },
    { name: 'Content-Type', value: 'application/url' },
  ];
  return buildRequest({ method: 'NOTIFY', uri: n.pnp.contactUri, headers, body: n.url });
}
