/**
 * A phone's SIP PnP SUBSCRIBE (docs/vendors.md "SIP PnP"; RFC 6080 §4.1:
 * `Event: ua-profile;profile-type="device";vendor;model;version`, sent to the
 * multicast group 224.0.1.75), as the tests of the PnP codec, the responder
 * and the running agent send it.
 */

/** What varies between the SUBSCRIBEs the tests send. */
export interface PnpSubscribeInput {
  /** User part of the Request-URI, From and To (Snom style `MAC%3a000413AABBCC`). */
  readonly user: string;
  /** Host part of the Request-URI, From and To (default the PnP group 224.0.1.75). */
  readonly domain?: string;
  /** Via sent-by, `host:port`. */
  readonly via: string;
  /** Via branch, magic cookie included. */
  readonly branch: string;
  /** Add `;rport` to the Via (RFC 3581). */
  readonly rport?: boolean;
  readonly fromTag: string;
  readonly callId: string;
  /** Contact host:port. */
  readonly contact: string;
  /** The whole Event header value (see {@link uaProfileEvent}). */
  readonly event: string;
  readonly maxForwards?: number;
}

/** `ua-profile` Event value of a device profile request. */
export function uaProfileEvent(p: { readonly vendor: string; readonly model: string; readonly version: string }): string {
  return `ua-profile;profile-type="device";vendor="${p.vendor}";model="${p.model}";version="${p.version}"`;
}

/** The Event of a Snom D785 on firmware 10.1.33.33. */
export const SNOM_D785_EVENT = uaProfileEvent({ vendor: 'snom', model: 'snomD785', version: '10.1.33.33' });

/** The SUBSCRIBE as wire text (CRLF line ends, no body). */
export function pnpSubscribe(p: PnpSubscribeInput): string {
  const uri = `sip:${p.user}@${p.domain ?? '224.0.1.75'}`;
  return [
    `SUBSCRIBE ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${p.via};branch=${p.branch}${p.rport ? ';rport' : ''}`,
    ...(p.maxForwards !== undefined ? [`Max-Forwards: ${p.maxForwards}`] : []),
    `From: <${uri}>;tag=${p.fromTag}`,
    `To: <${uri}>`,
    `Call-ID: ${p.callId}`,
    'CSeq: 1 SUBSCRIBE',
    `Contact: <sip:${p.contact}>`,
    `Event: ${p.event}`,
    'Expires: 0',
    'Accept: application/url',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
