import { describe, expect, it } from 'vitest';
import { negotiateAudio, type NegotiatedMedia } from '../../agent/protocols/sdp.js';
import { getHeader, getHeaders, parseVia, type SipRequest } from '../../agent/protocols/sip-message.js';
import { onServerRespond, startServerTransaction } from '../../agent/protocols/sip-server-transaction.js';
import {
  answerUasCall,
  type CallEvent,
  hangupUasCall,
  matchesCall,
  onCallRequest,
  onCallResponse,
  onCallTimer,
  receiveUasCall,
  startUasCall,
  type UasCallOptions,
  type UasCallStep,
} from '../../agent/protocols/sip-uas-call.js';
import { buildSipResponse } from '../../agent/protocols/sip-response-builder.js';
import { offer, PHONE, phoneInvite, phoneRequest, req, res } from './sip-test-kit.js';

const T0 = 50_000;
let version = 0;
let counter = 0;

function options(): UasCallOptions<NegotiatedMedia> {
  return {
    localTag: 'agent-tag',
    localContact: 'sip:hotdesk@10.0.0.2:5060',
    local: { host: '10.0.0.2', port: 5060 },
    source: PHONE,
    negotiate: (sdp) => negotiateAudio(sdp, { address: '10.0.0.2', port: 40000, sessionId: '7', sessionVersion: ++version }),
    random: () => `r${++counter}`,
    userAgent: 'hotdesk/1.0',
  };
}

/** An in-dialog request from the phone (our tag in To). */
const inDialog = (method: string, cseq: number, o: { body?: string; contentType?: string; headers?: string[]; cseqMethod?: string } = {}): SipRequest =>
  phoneRequest({ method, cseq, branch: `z9hG4bK${method}${cseq}`, toTag: 'agent-tag', ...o });
const ack = (cseq: number): SipRequest => inDialog('ACK', cseq);
const kinds = (s: UasCallStep<NegotiatedMedia>): string[] => s.events.map((e) => (e.kind === 'ended' ? `ended:${e.reason}` : e.kind));

/** A call answered at T0 and confirmed by the ACK at T0 + 100. */
function confirmed(invite = phoneInvite()): UasCallStep<NegotiatedMedia> {
  const started = startUasCall(invite, options(), T0);
  return onCallRequest(started.state, ack(101), T0 + 100);
}

/** Runs the timer exactly when asked; returns relative send times, the events and the last step. */
function runTimers(from: UasCallStep<NegotiatedMedia>, until = Number.POSITIVE_INFINITY) {
  let s = from;
  const sends: number[] = [];
  const events: CallEvent<NegotiatedMedia>[] = [];
  const wires: string[] = [];
  while (s.wakeAt !== null && s.wakeAt <= until) {
    const now = s.wakeAt;
    s = onCallTimer(s.state, now);
    for (const x of s.send) {
      sends.push(now - T0);
      wires.push(x.wire);
    }
    events.push(...s.events);
  }
  return { sends, events, wires, last: s };
}

describe('UAS call: INVITE -> 100/200 -> ACK -> INFO -> BYE', () => {
  it('answers with the SDP answer through the INVITE transaction, then talks DTMF and ends on the phone’s BYE', () => {
    const invite = phoneInvite({ headers: ['Contact: <sip:hd-12@10.0.0.50:5062>', 'Record-Route: <sip:pbx.example.com;lr>'] });
    const tx = startServerTransaction(invite, T0, {}, { source: PHONE });
    expect(res(tx.send[0] ?? '').status).toBe(100);
    const call = startUasCall(invite, options(), T0);
    expect(call.inviteAnswer?.status).toBe(200);
    expect(call.send).toEqual([]);
    expect(kinds(call)).toEqual(['media']);
    const ok = res(call.inviteAnswer?.wire ?? '');
    expect(getHeader(ok, 'To')).toBe('<sip:hotdesk@10.0.0.2>;tag=agent-tag');
    expect(getHeader(ok, 'Contact')).toBe('<sip:hotdesk@10.0.0.2:5060>');
    expect(getHeaders(ok, 'Allow').join(', ')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, INFO');
    expect(getHeader(ok, 'Server')).toBe('hotdesk/1.0');
    expect(getHeader(ok, 'Record-Route')).toBe('<sip:pbx.example.com;lr>');
    expect(getHeader(ok, 'Content-Type')).toBe('application/sdp');
    expect(ok.body).toMatch(/^v=0\r\n[\s\S]*m=audio 40000 RTP\/AVP 0 101\r\n/);
    expect(parseVia(getHeader(ok, 'Via') ?? '')).toMatchObject({ received: '10.0.0.50', rport: '5062' });
    // The INVITE transaction sends the 200 once and is over; the call retransmits it.
    expect(onServerRespond(tx.state, call.inviteAnswer?.wire ?? '', 200, T0)).toMatchObject({ done: true, send: [call.inviteAnswer?.wire] });
    const media = call.events[0];
    expect(media?.kind === 'media' && media.media).toMatchObject({ codec: 'PCMU', remotePort: 11780, telephoneEvent: 101, onHold: false });

    const up = onCallRequest(call.state, ack(101), T0 + 80);
    expect(kinds(up)).toEqual(['established']);
    expect(up.state.phase).toBe('confirmed');
    expect(up.wakeAt).toBeNull(); // no more 2xx retransmissions

    const info = onCallRequest(up.state, inDialog('INFO', 102, { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n' }), T0 + 1000);
    expect(info.events).toEqual([{ kind: 'dtmf', digit: '5', via: 'info', durationMs: 160 }]);
    expect(res(info.send[0]?.wire ?? '').status).toBe(200);
    const again = onCallRequest(info.state, inDialog('INFO', 102, { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n' }), T0 + 1500);
    expect(again.events).toEqual([]); // a retransmission: same answer, no second digit
    expect(again.send).toEqual(info.send);
    const star = onCallRequest(again.state, inDialog('INFO', 103, { contentType: 'application/dtmf-relay', body: 'Signal=10\r\n' }), T0 + 2000);
    expect(star.events).toEqual([{ kind: 'dtmf', digit: '*', via: 'info' }]);
    const hash = onCallRequest(star.state, inDialog('INFO', 104, { contentType: 'application/dtmf', body: '#' }), T0 + 2100);
    expect(hash.events).toEqual([{ kind: 'dtmf', digit: '#', via: 'info' }]);
    const other = onCallRequest(hash.state, inDialog('INFO', 105, { contentType: 'application/media_control+xml', body: '<x/>' }), T0 + 2200);
    expect(res(other.send[0]?.wire ?? '').status).toBe(415);
    expect(getHeaders(res(other.send[0]?.wire ?? ''), 'Accept').join(', ')).toBe('application/dtmf-relay, application/dtmf');
    expect(other.events).toEqual([]);

    const bye = onCallRequest(other.state, inDialog('BYE', 106), T0 + 3000);
    expect(kinds(bye)).toEqual(['ended:remote-bye']);
    expect(res(bye.send[0]?.wire ?? '').status).toBe(200);
    expect(bye.done).toBe(false); // lingers to answer BYE retransmissions
    const byeAgain = onCallRequest(bye.state, inDialog('BYE', 106), T0 + 3500);
    expect(byeAgain.send).toEqual(bye.send);
    expect(byeAgain.events).toEqual([]);
    expect(res(onCallRequest(bye.state, inDialog('INFO', 107, { contentType: 'application/dtmf', body: '1' }), T0 + 3600).send[0]?.wire ?? '').status).toBe(
      481,
    );
    const { last } = runTimers(byeAgain);
    expect(last.done).toBe(true);
    expect(last.state.lingerUntil).toBeNull();
  });

  it('retransmits the 2xx at T1, 2*T1, ... capped at T2 until the ACK', () => {
    const call = startUasCall(phoneInvite(), options(), T0);
    const { sends, wires, last } = runTimers(call, T0 + 12_000);
    expect(sends).toEqual([500, 1500, 3500, 7500, 11500]);
    expect(new Set(wires)).toEqual(new Set([call.inviteAnswer?.wire]));
    const acked = onCallRequest(last.state, ack(101), T0 + 12_100);
    expect(kinds(acked)).toEqual(['established']);
    expect(acked.wakeAt).toBeNull();
    // A late retransmission of the INVITE (no To tag) gets the same 200.
    expect(matchesCall(acked.state, phoneInvite())).toBe(true);
    expect(onCallRequest(acked.state, phoneInvite(), T0 + 12_200).send).toEqual([{ wire: call.inviteAnswer?.wire }]);
  });

  it('without ACK for 64*T1 ends the call (ack-timeout) with a BYE, once', () => {
    const call = startUasCall(phoneInvite(), options(), T0);
    const { sends, events, wires, last } = runTimers(call, T0 + 32_000);
    expect(sends.slice(-2)).toEqual([31_500, 32_000]);
    expect(events.map((e) => (e.kind === 'ended' ? e.reason : e.kind))).toEqual(['ack-timeout']);
    const bye = req(wires.at(-1) ?? '');
    expect(bye.method).toBe('BYE');
    expect(last.state.phase).toBe('ending');
    const ok = buildSipResponse(bye, { status: 200 });
    const done = onCallResponse(last.state, res(ok), T0 + 32_100);
    expect(done).toMatchObject({ done: true, events: [] });
  });
});

describe('UAS call: CANCEL, rejections, matching', () => {
  it('CANCEL before the answer: 200 to the CANCEL and 487 to the INVITE', () => {
    const offered = receiveUasCall(phoneInvite(), options(), T0);
    expect(offered.state.phase).toBe('offered');
    const cancel = phoneRequest({ method: 'CANCEL', cseq: 101, branch: 'z9hG4bKinv1' });
    expect(matchesCall(offered.state, cancel)).toBe(true);
    const c = onCallRequest(offered.state, cancel, T0 + 10);
    expect(res(c.send[0]?.wire ?? '')).toMatchObject({ status: 200 });
    expect(getHeader(res(c.send[0]?.wire ?? ''), 'CSeq')).toBe('101 CANCEL');
    expect(c.inviteAnswer?.status).toBe(487);
    expect(getHeader(res(c.inviteAnswer?.wire ?? ''), 'CSeq')).toBe('101 INVITE');
    expect(kinds(c)).toEqual(['ended:cancelled']);
    expect(c.done).toBe(true);
    expect(answerUasCall(c.state, T0 + 20).inviteAnswer).toBeUndefined();
  });

  it('CANCEL after the answer: 200 and no effect', () => {
    const call = startUasCall(phoneInvite(), options(), T0);
    const c = onCallRequest(call.state, phoneRequest({ method: 'CANCEL', cseq: 101, branch: 'z9hG4bKinv1' }), T0 + 10);
    expect(res(c.send[0]?.wire ?? '').status).toBe(200);
    expect(c.inviteAnswer).toBeUndefined();
    expect(c.events).toEqual([]);
    expect(kinds(onCallRequest(c.state, ack(101), T0 + 20))).toEqual(['established']);
  });

  it('488 for an offer it cannot take or no offer at all, 415 for a non-SDP body, 400 without Contact', () => {
    const video = offer().replace('m=audio 11780 RTP/AVP 0 8 101', 'm=video 11780 RTP/AVP 31');
    const bad = startUasCall(phoneInvite({ body: video }), options(), T0);
    expect(bad.inviteAnswer?.status).toBe(488);
    expect(kinds(bad)).toEqual(['ended:rejected']);
    expect(bad.done).toBe(true);
    expect(startUasCall(phoneInvite({ body: '' }), options(), T0).inviteAnswer?.status).toBe(488);
    const xml = startUasCall(phoneInvite({ body: '<audio/>', contentType: 'application/unknownformat' }), options(), T0);
    expect(xml.inviteAnswer?.status).toBe(415);
    expect(getHeader(res(xml.inviteAnswer?.wire ?? ''), 'Accept')).toBe('application/sdp');
    const noContact = startUasCall(phoneInvite({ headers: [] }), options(), T0);
    expect(noContact.inviteAnswer?.status).toBe(400);
    expect(kinds(noContact)).toEqual(['ended:rejected']);
  });

  it('matches only its own dialog', () => {
    const up = confirmed();
    expect(matchesCall(up.state, inDialog('BYE', 102))).toBe(true);
    expect(matchesCall(up.state, phoneRequest({ method: 'BYE', cseq: 102, branch: 'z9hG4bKx', toTag: 'other' }))).toBe(false);
    expect(matchesCall(up.state, phoneRequest({ method: 'BYE', cseq: 102, branch: 'z9hG4bKx', toTag: 'agent-tag', callId: 'other' }))).toBe(false);
    expect(matchesCall(up.state, phoneRequest({ method: 'BYE', cseq: 102, branch: 'z9hG4bKx' }))).toBe(false);
  });
});

describe('UAS call: requests inside the dialog', () => {
  it('re-INVITE to hold and resume emits media; a re-INVITE before the ACK gets 491; a refused offer keeps the call', () => {
    const up = confirmed();
    const hold = onCallRequest(up.state, inDialog('INVITE', 102, { body: offer('sendonly', 2), headers: ['Contact: <sip:hd-12@10.0.0.50:5099>'] }), T0 + 1000);
    const held = res(hold.send[0]?.wire ?? '');
    expect(held.status).toBe(200);
    expect(held.body).toContain('a=recvonly');
    expect(hold.events).toHaveLength(1);
    expect(hold.events[0]?.kind === 'media' && hold.events[0].media.onHold).toBe(true);
    expect(hold.wakeAt).toBe(T0 + 1500); // its 2xx is retransmitted until the ACK
    const glare = onCallRequest(hold.state, inDialog('INVITE', 103, { body: offer('sendrecv', 3) }), T0 + 1100);
    expect(res(glare.send[0]?.wire ?? '').status).toBe(491);
    expect(glare.events).toEqual([]);
    const acked = onCallRequest(glare.state, ack(102), T0 + 1200);
    expect(acked.events).toEqual([]); // not a new establishment
    expect(acked.wakeAt).toBeNull();
    const resume = onCallRequest(acked.state, inDialog('INVITE', 104, { body: offer('sendrecv', 4) }), T0 + 2000);
    expect(resume.events[0]?.kind === 'media' && resume.events[0].media.onHold).toBe(false);
    const resumed = onCallRequest(resume.state, ack(104), T0 + 2100);
    const refused = onCallRequest(resumed.state, inDialog('INVITE', 105, { body: 'v=0\r\n' }), T0 + 3000);
    expect(res(refused.send[0]?.wire ?? '').status).toBe(488);
    expect(refused.state.phase).toBe('confirmed');
    expect(refused.state.media).toEqual(resumed.state.media);
    // The ACK of the 488 is absorbed.
    expect(onCallRequest(refused.state, ack(105), T0 + 3010)).toMatchObject({ send: [], events: [] });
    // The re-INVITE's Contact became the remote target: the BYE goes to it.
    const bye = hangupUasCall(refused.state, T0 + 4000);
    expect(req(bye.send[0]?.wire ?? '').uri).toBe('sip:hd-12@10.0.0.50:5099');
  });

  it('OPTIONS 200; UPDATE and unknown methods 501; REGISTER 405; a lower CSeq 500', () => {
    const up = confirmed();
    const opt = res(onCallRequest(up.state, inDialog('OPTIONS', 102), T0 + 200).send[0]?.wire ?? '');
    expect(opt.status).toBe(200);
    expect(getHeaders(opt, 'Allow').join(', ')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, INFO');
    for (const [method, status] of [
      ['UPDATE', 501],
      ['FROBNICATE', 501],
      ['invite', 501], // methods are case-sensitive
      ['REGISTER', 405],
      ['SUBSCRIBE', 405],
    ] as const) {
      const answer = res(onCallRequest(up.state, inDialog(method, 103), T0 + 300).send[0]?.wire ?? '');
      expect(answer.status, method).toBe(status);
      expect(getHeaders(answer, 'Allow').join(', ')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, INFO');
    }
    const after = onCallRequest(up.state, inDialog('OPTIONS', 110), T0 + 400);
    expect(res(onCallRequest(after.state, inDialog('INFO', 109), T0 + 500).send[0]?.wire ?? '').status).toBe(500);
  });
});

describe('UAS call: the agent hangs up', () => {
  const routed = (): SipRequest =>
    phoneInvite({ headers: ['Contact: <sip:hd-12@10.0.0.50:5062>', 'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>'] });

  it('sends a BYE with the Route set in order, CSeq 1, to the remote target; answered -> local-bye', () => {
    const up = confirmed(routed());
    const h = hangupUasCall(up.state, T0 + 1000);
    expect(h.send).toHaveLength(1);
    const bye = req(h.send[0]?.wire ?? '');
    expect(bye.method).toBe('BYE');
    expect(bye.uri).toBe('sip:hd-12@10.0.0.50:5062');
    expect(getHeaders(bye, 'Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(getHeader(bye, 'CSeq')).toBe('1 BYE');
    expect(getHeader(bye, 'From')).toBe('<sip:hotdesk@10.0.0.2>;tag=agent-tag');
    expect(getHeader(bye, 'To')).toBe('"Desk 12" <sip:hd-12@10.0.0.2>;tag=phone-tag');
    expect(getHeader(bye, 'Call-ID')).toBe('call-1@10.0.0.50');
    expect(getHeader(bye, 'User-Agent')).toBe('hotdesk/1.0');
    expect(parseVia(getHeader(bye, 'Via') ?? '')).toMatchObject({ host: '10.0.0.2', port: 5060, rport: '' });
    expect(h.events).toEqual([]);
    expect(hangupUasCall(h.state, T0 + 1100).send).toEqual([]); // once
    const stray = onCallResponse(
      h.state,
      res(
        buildSipResponse(
          { ...bye, headers: bye.headers.map((x) => (x.name === 'Via' ? { ...x, value: 'SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKother' } : x)) },
          { status: 200 },
        ),
      ),
      T0 + 1150,
    );
    expect(stray.events).toEqual([]);
    const trying = onCallResponse(h.state, res(buildSipResponse(bye, { status: 100 })), T0 + 1200);
    expect(trying.events).toEqual([]);
    const done = onCallResponse(trying.state, res(buildSipResponse(bye, { status: 200, toTag: 'phone-tag' })), T0 + 1300);
    expect(kinds(done)).toEqual(['ended:local-bye']);
    expect(done.done).toBe(true);
  });

  it('retransmits the BYE on timer E and ends with bye-timeout on timer F', () => {
    const h = hangupUasCall(confirmed().state, T0 + 1000);
    const { sends, events, last } = runTimers(h);
    expect(sends).toEqual([1500, 2500, 4500, 8500, 12500, 16500, 20500, 24500, 28500, 32500]);
    expect(events).toEqual([{ kind: 'ended', reason: 'bye-timeout' }]);
    expect(last.done).toBe(true);
  });

  it('a strict-routing first hop becomes the Request-URI and the remote target goes last in Route', () => {
    const up = confirmed(phoneInvite({ headers: ['Contact: <sip:hd-12@10.0.0.50:5062>', 'Record-Route: <sip:strict.example.com>'] }));
    const bye = req(hangupUasCall(up.state, T0 + 1000).send[0]?.wire ?? '');
    expect(bye.uri).toBe('sip:strict.example.com');
    expect(getHeaders(bye, 'Route')).toEqual(['<sip:hd-12@10.0.0.50:5062>']);
  });

  it('before the ACK waits for it; before the answer refuses the INVITE', () => {
    const answering = startUasCall(phoneInvite(), options(), T0);
    const h = hangupUasCall(answering.state, T0 + 10);
    expect(h.send).toEqual([]);
    const acked = onCallRequest(h.state, ack(101), T0 + 50);
    expect(kinds(acked)).toEqual(['established']);
    expect(req(acked.send[0]?.wire ?? '').method).toBe('BYE');
    const offered = receiveUasCall(phoneInvite(), options(), T0);
    const refused = hangupUasCall(offered.state, T0 + 10);
    expect(refused.inviteAnswer?.status).toBe(480);
    expect(kinds(refused)).toEqual(['ended:rejected']);
  });
});
