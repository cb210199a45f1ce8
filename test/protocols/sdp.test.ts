import { describe, expect, it } from 'vitest';
import { type LocalMedia, negotiateAudio, parseSdp, SDP_MAX_MEDIA } from '../../agent/protocols/sdp.js';
import { mulberry32 } from '../helpers/prng.js';

const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const LOCAL: LocalMedia = { address: '192.168.1.20', port: 40000, sessionId: '4242', sessionVersion: 1 };

function answerOf(offer: string, local: LocalMedia = LOCAL, prefer?: ('PCMU' | 'PCMA')[]) {
  const r = negotiateAudio(offer, local, prefer);
  if (!r.ok) throw new Error(r.reason);
  return r;
}

/** Offers as the phones and tools send them (codec lists per their default configurations). */
const YEALINK = sdp(
  'v=0',
  'o=- 20010 20010 IN IP4 192.168.1.31',
  's=SDP data',
  'c=IN IP4 192.168.1.31',
  't=0 0',
  'm=audio 11786 RTP/AVP 9 0 8 18 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=ptime:20',
  'a=sendrecv',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
);
const SNOM = sdp(
  'v=0',
  'o=root 1417442289 1417442289 IN IP4 192.168.1.32',
  's=call',
  'c=IN IP4 192.168.1.32',
  't=0 0',
  'm=audio 60034 RTP/AVP 9 8 0 3 99 18 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:3 GSM/8000',
  'a=rtpmap:99 G726-32/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
);
const POLY = sdp(
  'v=0',
  'o=- 1431026406 1431026406 IN IP4 192.168.1.33',
  's=Polycom IP Phone',
  'c=IN IP4 192.168.1.33',
  't=0 0',
  'a=sendrecv',
  'm=audio 2222 RTP/AVP 9 102 0 8 18 127',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:102 G7221/16000',
  'a=fmtp:102 bitrate=32000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:127 telephone-event/8000',
);
const BARESIP = sdp(
  'v=0',
  'o=- 1977530370 2591542413 IN IP4 192.168.1.40',
  's=-',
  'c=IN IP4 192.168.1.40',
  't=0 0',
  'm=audio 10002 RTP/AVP 96 9 0 8 101',
  'b=AS:96',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=rtcp-rsize',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:2043412466 cname:e7c1c3d1-2e4f',
  'a=ptime:20',
);
// SIPp's built-in `uac` and `uac_pcap` scenarios (sipp -sd uac), keywords filled in.
const SIPP_UAC = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);
const SIPP_UAC_PCAP = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-11,16',
);

describe('parseSdp (RFC 4566)', () => {
  it('parses sessions, media, connections and attributes', () => {
    const r = parseSdp(POLY);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.sdp.origin).toEqual({ username: '-', sessionId: '1431026406', sessionVersion: '1431026406', address: '192.168.1.33' });
    expect(r.sdp.sessionName).toBe('Polycom IP Phone');
    expect(r.sdp.connection).toEqual({ addrType: 'IP4', address: '192.168.1.33' });
    expect(r.sdp.direction).toBe('sendrecv');
    const [m] = r.sdp.media;
    expect(m).toMatchObject({ media: 'audio', port: 2222, proto: 'RTP/AVP', formats: ['9', '102', '0', '8', '18', '127'], connection: null, direction: null });
    expect(m?.rtpmaps).toContainEqual({ payloadType: 102, encoding: 'G7221', clockRate: 16000, channels: 1 });
    expect(m?.fmtps).toContainEqual({ payloadType: 18, params: 'annexb=no' });
  });

  it('accepts LF line ends, port counts, TTL suffixes, IPv6 and channel counts', () => {
    const r = parseSdp(
      [
        'v=0',
        'o=- 1 2 IN IP6 2001:db8::1',
        's= ',
        't=0 0',
        'm=audio 5004/2 RTP/AVP 96',
        'c=IN IP4 224.2.1.1/127/3',
        'a=rtpmap:96 opus/48000/2',
        'a=ptime:30.0',
        '',
      ].join('\n'),
    );
    expect(r.ok && r.sdp.media[0]).toMatchObject({
      port: 5004,
      connection: { addrType: 'IP4', address: '224.2.1.1' },
      rtpmaps: [{ payloadType: 96, encoding: 'opus', clockRate: 48000, channels: 2 }],
      ptime: 30,
    });
    expect(r.ok && r.sdp.origin.address).toBe('2001:db8::1');
  });

  it('refuses garbage with a reason and never throws', () => {
    const bad = [
      '',
      'hello',
      'o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n', // v= not first
      'v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n',
      'v=0\r\ns=-\r\n', // no o=
      'v=0\r\no=- 1 IN IP4 1.2.3.4\r\n', // short o=
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n',
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=XX IP4 1.2.3.4\r\n',
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n',
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n',
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio\r\n',
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nM=audio 1 RTP/AVP 0\r\n',
      `v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n${'m=audio 1 RTP/AVP 0\r\n'.repeat(SDP_MAX_MEDIA + 1)}`,
      `v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=${'x'.repeat(20_000)}\r\n`,
    ];
    for (const b of bad) {
      const r = parseSdp(b);
      expect(r.ok, JSON.stringify(b.slice(0, 80))).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
    const rand = mulberry32(4566);
    const pieces = [
      'v=0',
      'o=- 1 1 IN IP4 1.1.1.1',
      'm=audio 1 RTP/AVP 0',
      'a=rtpmap:',
      'c=IN IP4 ',
      '\r\n',
      '\n',
      ' ',
      '=',
      ':',
      '/',
      '0',
      '999',
      'a=fmtp:101',
    ];
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: Math.floor(rand() * 12) }, () => pieces[Math.floor(rand() * pieces.length)]).join('');
      expect(() => parseSdp(text)).not.toThrow();
      expect(() => negotiateAudio(text, LOCAL)).not.toThrow();
    }
  });
});

describe('negotiateAudio (RFC 3264 answerer)', () => {
  it('answers a Yealink offer with PCMU, telephone-event 101, ptime 20, sendrecv, CRLF lines', () => {
    const r = answerOf(YEALINK);
    expect(r.answer).toBe(
      sdp(
        'v=0',
        'o=hotdesk 4242 1 IN IP4 192.168.1.20',
        's=hotdesk',
        'c=IN IP4 192.168.1.20',
        't=0 0',
        'm=audio 40000 RTP/AVP 0 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
    expect(r.media).toEqual({
      remoteAddress: '192.168.1.31',
      remotePort: 11786,
      codec: 'PCMU',
      payloadType: 0,
      telephoneEvent: 101,
      direction: 'sendrecv',
      onHold: false,
      ptimeMs: 20,
    });
    expect(r.answer.split('\r\n').every((l) => !l.includes('\n'))).toBe(true);
  });

  it("follows the offerer's codec order (Snom lists PCMA first) and keeps telephone-event, which Snom needs", () => {
    const r = answerOf(SNOM);
    expect(r.media).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101, remotePort: 60034 });
    expect(r.answer).toContain('m=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n');
  });

  it("uses the Poly offer's telephone-event payload type 127 and its session-level direction", () => {
    const r = answerOf(POLY);
    expect(r.media).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEvent: 127, direction: 'sendrecv' });
    expect(r.answer).toContain('m=audio 40000 RTP/AVP 0 127\r\n');
    expect(r.answer).toContain('a=rtpmap:127 telephone-event/8000\r\na=fmtp:127 0-15\r\n');
  });

  it('picks G.711 out of an Opus-first baresip offer', () => {
    expect(answerOf(BARESIP).media).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEvent: 101, remoteAddress: '192.168.1.40', remotePort: 10002 });
  });

  it("answers SIPp's default offers (PCMU only; PCMA with telephone-event 0-11,16)", () => {
    const uac = answerOf(SIPP_UAC);
    expect(uac.media).toMatchObject({ codec: 'PCMU', telephoneEvent: null, remoteAddress: '127.0.0.1', remotePort: 6000 });
    expect(uac.answer).not.toContain('telephone-event');
    expect(uac.answer).toContain('m=audio 40000 RTP/AVP 0\r\n');
    expect(answerOf(SIPP_UAC_PCAP).media).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101 });
  });

  it('honours a local preference order and refuses when it leaves nothing in common', () => {
    expect(answerOf(YEALINK, LOCAL, ['PCMA', 'PCMU']).media).toMatchObject({ codec: 'PCMA', payloadType: 8 });
    expect(answerOf(SNOM, LOCAL, ['PCMU']).media).toMatchObject({ codec: 'PCMU', payloadType: 0 });
    expect(negotiateAudio(SIPP_UAC, LOCAL, ['PCMA'])).toEqual({ ok: false, reason: 'no offered audio stream has PCMU or PCMA over RTP/AVP' });
  });

  it('accepts dynamic payload types mapped to PCMU/8000 or PCMA/8000, and rtpmap overrides a static number', () => {
    const dyn = sdp(
      'v=0',
      'o=- 1 1 IN IP4 10.0.0.9',
      's=-',
      'c=IN IP4 10.0.0.9',
      't=0 0',
      'm=audio 4000 RTP/AVP 96 97',
      'a=rtpmap:96 pcma/8000',
      'a=rtpmap:97 TELEPHONE-EVENT/8000',
    );
    const r = answerOf(dyn);
    expect(r.media).toMatchObject({ codec: 'PCMA', payloadType: 96, telephoneEvent: 97 });
    expect(r.answer).toContain('m=audio 40000 RTP/AVP 96 97\r\na=rtpmap:96 PCMA/8000\r\n');
    const wrongRate = sdp(
      'v=0',
      'o=- 1 1 IN IP4 10.0.0.9',
      's=-',
      'c=IN IP4 10.0.0.9',
      't=0 0',
      'm=audio 4000 RTP/AVP 0 96',
      'a=rtpmap:0 PCMU/16000',
      'a=rtpmap:96 telephone-event/48000',
    );
    expect(negotiateAudio(wrongRate, LOCAL).ok).toBe(false);
  });

  it('detects hold: sendonly → recvonly, inactive → inactive, c=0.0.0.0; recvonly → sendonly is not hold', () => {
    const hold = YEALINK.replace('a=sendrecv', 'a=sendonly');
    const h = answerOf(hold, { ...LOCAL, sessionVersion: 2 });
    expect(h.media).toMatchObject({ direction: 'sendonly', onHold: true });
    expect(h.answer).toContain('a=recvonly\r\n');
    expect(h.answer).toContain('o=hotdesk 4242 2 IN IP4');
    const inactive = answerOf(YEALINK.replace('a=sendrecv', 'a=inactive'));
    expect(inactive.media).toMatchObject({ direction: 'inactive', onHold: true });
    expect(inactive.answer).toContain('a=inactive\r\n');
    const old = answerOf(YEALINK.replace('c=IN IP4 192.168.1.31', 'c=IN IP4 0.0.0.0'));
    expect(old.media).toMatchObject({ direction: 'sendrecv', onHold: true, remoteAddress: '0.0.0.0' });
    const recvonly = answerOf(YEALINK.replace('a=sendrecv', 'a=recvonly'));
    expect(recvonly.media).toMatchObject({ direction: 'recvonly', onHold: false });
    expect(recvonly.answer).toContain('a=sendonly\r\n');
    // Media level wins over session level.
    expect(answerOf(POLY.replace('m=audio 2222 RTP/AVP 9 102 0 8 18 127', 'm=audio 2222 RTP/AVP 9 102 0 8 18 127\r\na=sendonly')).media.onHold).toBe(true);
  });

  it('takes the media-level c= over the session level, and the offered ptime', () => {
    const offer = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 8', 'c=IN IP4 10.0.0.2', 'a=ptime:30');
    const r = answerOf(offer);
    expect(r.media).toMatchObject({ remoteAddress: '10.0.0.2', ptimeMs: 30 });
    expect(r.answer).toContain('a=ptime:20\r\n');
  });

  it('answers every m= line in order, refusing video, extra audio and SRTP streams with port 0', () => {
    const offer = sdp(
      'v=0',
      'o=- 1 1 IN IP4 10.0.0.1',
      's=-',
      'c=IN IP4 10.0.0.1',
      't=0 0',
      'm=video 5000 RTP/AVP 96 97',
      'a=rtpmap:96 H264/90000',
      'm=audio 5002 RTP/SAVP 0',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
      'm=audio 5004 RTP/AVP 0 101',
      'a=rtpmap:101 telephone-event/8000',
      'm=audio 5006 RTP/AVP 8',
      'm=application 5008 UDP/BFCP *',
    );
    const r = answerOf(offer);
    const mLines = r.answer.split('\r\n').filter((l) => l.startsWith('m='));
    expect(mLines).toEqual([
      'm=video 0 RTP/AVP 96 97',
      'm=audio 0 RTP/SAVP 0',
      'm=audio 40000 RTP/AVP 0 101',
      'm=audio 0 RTP/AVP 8',
      'm=application 0 UDP/BFCP *',
    ]);
    expect(r.media).toMatchObject({ remotePort: 5004, telephoneEvent: 101 });
  });

  it('answers a disabled audio stream (port 0) with port 0 and remotePort 0', () => {
    const r = answerOf(SIPP_UAC.replace('m=audio 6000', 'm=audio 0'));
    expect(r.media.remotePort).toBe(0);
    expect(r.answer).toContain('m=audio 0 RTP/AVP 0\r\n');
  });

  it('refuses offers without a usable audio stream (the caller answers 488)', () => {
    const noAudio = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=video 5000 RTP/AVP 96');
    expect(negotiateAudio(noAudio, LOCAL)).toEqual({ ok: false, reason: 'the offer has no audio stream' });
    const g729 = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 5000 RTP/AVP 18 101', 'a=rtpmap:101 telephone-event/8000');
    expect(negotiateAudio(g729, LOCAL).ok).toBe(false);
    const noConnection = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 0');
    expect(negotiateAudio(noConnection, LOCAL).ok).toBe(false);
    expect(negotiateAudio('not sdp', LOCAL)).toMatchObject({ ok: false });
  });

  it('writes IP6 for an IPv6 local address and a given o= user name', () => {
    const r = answerOf(YEALINK, { address: 'fd00::20', port: 40002, sessionId: '9', sessionVersion: 3, username: 'agent' });
    expect(r.answer).toContain('o=agent 9 3 IN IP6 fd00::20\r\n');
    expect(r.answer).toContain('c=IN IP6 fd00::20\r\n');
  });

  it('produces an answer that parses back to the same stream', () => {
    for (const offer of [YEALINK, SNOM, POLY, BARESIP, SIPP_UAC, SIPP_UAC_PCAP]) {
      const r = answerOf(offer);
      const back = parseSdp(r.answer);
      expect(back.ok).toBe(true);
      if (!back.ok) continue;
      const m = back.sdp.media.find((x) => x.port !== 0);
      expect(m?.formats[0]).toBe(String(r.media.payloadType));
      expect(back.sdp.connection?.address).toBe(LOCAL.address);
    }
  });
});
