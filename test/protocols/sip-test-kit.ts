/**
 * Scripted SIP messages from a phone for the server-side machine tests: the
 * wire text is built by hand (as a phone would send it) and parsed with the
 * real parser.
 */
import { parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from '../../agent/protocols/sip-message.js';

/** Where the scripted phone sends from. */
export const PHONE = { address: '10.0.0.50', port: 5062 } as const;

/** An SDP offer from the phone (PCMU, PCMA, telephone-event 101), optionally on hold. */
export function offer(direction: 'sendrecv' | 'sendonly' | 'inactive' = 'sendrecv', version = 1): string {
  return [
    'v=0',
    `o=phone 42 ${version} IN IP4 10.0.0.50`,
    's=-',
    'c=IN IP4 10.0.0.50',
    't=0 0',
    'm=audio 11780 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    `a=${direction}`,
    '',
  ].join('\r\n');
}

/** Parses wire text, failing the test when it does not parse. */
export function parse(wire: string): SipMessage {
  const r = parseSipMessage(wire);
  if (!r.ok) throw new Error(`unparseable: ${r.error}\n${wire}`);
  return r.message;
}

/** Parses a request. */
export function req(wire: string): SipRequest {
  const m = parse(wire);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

/** Parses a response. */
export function res(wire: string): SipResponse {
  const m = parse(wire);
  if (m.kind !== 'response') throw new Error('not a response');
  return m;
}

/** A request from the phone; `to` may carry our tag, `headers` come after the mandatory ones. */
export function phoneRequest(o: {
  method: string;
  cseq: number;
  branch: string;
  callId?: string;
  uri?: string;
  toTag?: string;
  cseqMethod?: string;
  headers?: readonly string[];
  body?: string;
  contentType?: string;
}): SipRequest {
  const body = o.body ?? '';
  const lines = [
    `${o.method} ${o.uri ?? 'sip:hotdesk@10.0.0.2:5060'} SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.50:5062;branch=${o.branch};rport`,
    'Max-Forwards: 70',
    'From: "Desk 12" <sip:hd-12@10.0.0.2>;tag=phone-tag',
    `To: <sip:hotdesk@10.0.0.2>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'call-1@10.0.0.50'}`,
    `CSeq: ${o.cseq} ${o.cseqMethod ?? o.method}`,
    ...(o.headers ?? []),
    ...(body || o.contentType ? [`Content-Type: ${o.contentType ?? 'application/sdp'}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return req(lines.join('\r\n'));
}

/** The phone's INVITE to the hot-desk line. */
export function phoneInvite(o: { cseq?: number; branch?: string; body?: string; contentType?: string; headers?: readonly string[] } = {}): SipRequest {
  return phoneRequest({
    method: 'INVITE',
    cseq: o.cseq ?? 101,
    branch: o.branch ?? 'z9hG4bKinv1',
    uri: 'sip:*35@10.0.0.2:5060',
    headers: o.headers ?? ['Contact: <sip:hd-12@10.0.0.50:5062;transport=udp>'],
    body: o.body ?? offer(),
    ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
  });
}
