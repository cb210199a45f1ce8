import { describe, expect, it } from 'vitest';
import { buildDialogRequest, dialogFromInvite, matchesDialog, noDialogResponse, rejectInvite } from '../../agent/protocols/sip-dialog.js';
import { getHeader, getHeaders } from '../../agent/protocols/sip-message.js';
import { PHONE, phoneInvite, phoneRequest, req, res } from './sip-test-kit.js';

describe('dialog of the UAS (RFC 3261 §12.1.1)', () => {
  it('takes identifiers, remote target and the Record-Route set in order from the INVITE', () => {
    const d = dialogFromInvite(
      phoneInvite({ headers: ['Contact: <sip:hd-12@10.0.0.50:5062>', 'Record-Route: <sip:a.example;lr>', 'Record-Route: <sip:b.example;lr>'] }),
      'L',
    );
    expect(d).toEqual({
      callId: 'call-1@10.0.0.50',
      localTag: 'L',
      remoteTag: 'phone-tag',
      localAddress: '<sip:hotdesk@10.0.0.2>;tag=L',
      remoteAddress: '"Desk 12" <sip:hd-12@10.0.0.2>;tag=phone-tag',
      remoteTarget: 'sip:hd-12@10.0.0.50:5062',
      routeSet: ['sip:a.example;lr', 'sip:b.example;lr'],
      localCSeq: 0,
      remoteCSeq: 101,
    });
    expect(dialogFromInvite(phoneInvite({ headers: ['Contact: <tel:+123>'] }), 'L')).toBeNull();
  });

  it('matches requests by Call-ID and both tags', () => {
    const d = dialogFromInvite(phoneInvite(), 'L');
    if (!d) throw new Error('no dialog');
    expect(matchesDialog(d, phoneRequest({ method: 'BYE', cseq: 102, branch: 'z9hG4bK1', toTag: 'L' }))).toBe(true);
    expect(matchesDialog(d, phoneRequest({ method: 'BYE', cseq: 102, branch: 'z9hG4bK1', toTag: 'M' }))).toBe(false);
  });

  it('numbers its requests from 1 up', () => {
    const d = dialogFromInvite(phoneInvite(), 'L');
    if (!d) throw new Error('no dialog');
    const first = buildDialogRequest(d, 'BYE', { local: { host: '::1', port: 5060 }, branch: 'abc' });
    const second = buildDialogRequest(first.dialog, 'INFO', { local: { host: '::1', port: 5060 }, branch: 'def' });
    expect([first.cseq, second.cseq]).toEqual([1, 2]);
    expect(getHeader(req(second.wire), 'Via')).toBe('SIP/2.0/UDP [::1]:5060;branch=z9hG4bKdef;rport');
    expect(first.branch).toBe('z9hG4bKabc');
  });
});

describe('answers outside a dialog', () => {
  it('rejectInvite builds 486, 302 with Contact, 401 with a challenge, 503 with Retry-After', () => {
    const inv = phoneInvite();
    expect(res(rejectInvite(inv, 486, 'Busy Here', [], 't', PHONE))).toMatchObject({ status: 486, reason: 'Busy Here' });
    const moved = res(rejectInvite(inv, 302, 'Moved Temporarily', [{ name: 'Contact', value: '<sip:112@pbx.example.com>' }], 't'));
    expect(getHeader(moved, 'Contact')).toBe('<sip:112@pbx.example.com>');
    expect(getHeader(moved, 'To')).toBe('<sip:hotdesk@10.0.0.2>;tag=t');
    const challenge = res(rejectInvite(inv, 401, 'Unauthorized', [{ name: 'WWW-Authenticate', value: 'Digest realm="hotdesk", nonce="n"' }], 't'));
    expect(getHeaders(challenge, 'WWW-Authenticate')).toEqual(['Digest realm="hotdesk", nonce="n"']);
    expect(getHeader(res(rejectInvite(inv, 503, 'Service Unavailable', [{ name: 'Retry-After', value: '30' }], 't')), 'Retry-After')).toBe('30');
    expect(() => rejectInvite(inv, 200, 'OK', [], 't')).toThrow(RangeError);
  });

  it('noDialogResponse answers 481, never to an ACK', () => {
    expect(res(noDialogResponse(phoneRequest({ method: 'BYE', cseq: 5, branch: 'z9hG4bKz', toTag: 'gone' })) ?? '').status).toBe(481);
    expect(noDialogResponse(phoneRequest({ method: 'ACK', cseq: 5, branch: 'z9hG4bKz', toTag: 'gone' }))).toBeNull();
  });
});
