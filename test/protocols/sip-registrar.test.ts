import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders, parseVia, type SipRequest } from '../../agent/protocols/sip-message.js';
import { processRegister, type RegisterInput, type RegistrarBinding } from '../../agent/protocols/sip-registrar.js';
import { PHONE, req, res } from './sip-test-kit.js';

const NOW = 1_000_000;

function register(o: { user?: string; contacts?: string[]; expires?: string; callId?: string; cseq?: number } = {}): SipRequest {
  const lines = [
    'REGISTER sip:10.0.0.2:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.168.1.50:5062;branch=z9hG4bKr1;rport',
    'Max-Forwards: 70',
    `From: <sip:${o.user ?? 'hd-12'}@10.0.0.2>;tag=f1`,
    `To: <sip:${o.user ?? 'hd-12'}@10.0.0.2>`,
    `Call-ID: ${o.callId ?? 'reg-1'}`,
    `CSeq: ${o.cseq ?? 10} REGISTER`,
    ...(o.contacts ?? ['<sip:hd-12@192.168.1.50:5062>']).map((c) => `Contact: ${c}`),
    ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
    'User-Agent: Yealink SIP-T46U 108.86.0.45',
    'Content-Length: 0',
    '',
    '',
  ];
  return req(lines.join('\r\n'));
}

function run(request: SipRequest, current: RegistrarBinding | null = null, extra: Partial<RegisterInput> = {}) {
  return processRegister({ request, username: 'hd-12', source: PHONE, current, now: NOW, toTag: 'reg-tag', ...extra });
}

const bound = (over: Partial<RegistrarBinding> = {}): RegistrarBinding => ({
  contact: 'sip:hd-12@192.168.1.50:5062',
  expiresAt: NOW + 1_800_000,
  callId: 'reg-1',
  cseq: 10,
  address: PHONE.address,
  port: PHONE.port,
  transport: 'UDP',
  userAgent: 'Yealink',
  ...over,
});

describe('registrar (RFC 3261 §10.3)', () => {
  it('binds the Contact with the SOURCE address as target, and answers 200 with the binding and no Date', () => {
    const r = run(register());
    expect(r).toMatchObject({ status: 200, change: 'bound' });
    expect(r.binding).toEqual({
      contact: 'sip:hd-12@192.168.1.50:5062',
      expiresAt: NOW + 3_600_000,
      callId: 'reg-1',
      cseq: 10,
      address: '10.0.0.50', // where the datagram came from, not the Contact host 192.168.1.50
      port: 5062,
      transport: 'UDP',
      userAgent: 'Yealink SIP-T46U 108.86.0.45',
    });
    const answer = res(r.response);
    expect(getHeaders(answer, 'Contact')).toEqual(['<sip:hd-12@192.168.1.50:5062>;expires=3600']);
    expect(getHeader(answer, 'Date')).toBeUndefined();
    expect(getHeader(answer, 'To')).toBe('<sip:hd-12@10.0.0.2>;tag=reg-tag');
    expect(parseVia(getHeader(answer, 'Via') ?? '')).toMatchObject({ received: '10.0.0.50', rport: '5062' });
  });

  it('takes the expiry from the contact parameter, else the Expires header, else the default; shortens above the maximum', () => {
    const expiresOf = (r: ReturnType<typeof run>): number => ((r.binding?.expiresAt ?? NOW) - NOW) / 1000;
    expect(expiresOf(run(register({ contacts: ['<sip:hd-12@192.168.1.50:5062>;expires=120'], expires: '600' })))).toBe(120);
    expect(expiresOf(run(register({ expires: '600' })))).toBe(600);
    expect(expiresOf(run(register()))).toBe(3600);
    expect(expiresOf(run(register({ expires: '7200' })))).toBe(3600);
    expect(expiresOf(run(register({ expires: '99999999999999999999' })))).toBe(3600); // malformed: the default (RFC 4475 scalar02)
    expect(expiresOf(run(register({ expires: '900' }), null, { limits: { maxExpires: 600, defaultExpires: 300 } }))).toBe(600);
    expect(getHeaders(res(run(register({ expires: '7200' })).response), 'Contact')).toEqual(['<sip:hd-12@192.168.1.50:5062>;expires=3600']);
  });

  it('refuses a too-short non-zero expiry with 423 and Min-Expires', () => {
    const r = run(register({ expires: '30' }), bound());
    expect(r).toMatchObject({ status: 423, change: 'rejected' });
    expect(r.binding).toEqual(bound());
    expect(getHeader(res(r.response), 'Min-Expires')).toBe('60');
  });

  it('removes the binding with Contact: * and Expires: 0, and refuses a wildcard otherwise', () => {
    const gone = run(register({ contacts: ['*'], expires: '0', cseq: 11 }), bound());
    expect(gone).toMatchObject({ status: 200, change: 'removed', binding: null });
    expect(getHeaders(res(gone.response), 'Contact')).toEqual([]);
    expect(run(register({ contacts: ['*'], expires: '60', cseq: 11 }), bound())).toMatchObject({ status: 400, binding: bound() });
    expect(run(register({ contacts: ['*', '<sip:a@b>'], expires: '0', cseq: 11 }), bound()).status).toBe(400);
    expect(run(register({ contacts: ['*'], cseq: 11 }), bound()).status).toBe(400);
  });

  it('removes the binding with its own contact and expires=0', () => {
    const r = run(register({ contacts: ['<sip:hd-12@192.168.1.50:5062>;expires=0'], cseq: 11 }), bound());
    expect(r).toMatchObject({ status: 200, change: 'removed', binding: null });
    const other = run(register({ contacts: ['<sip:other@192.168.1.50>;expires=0'], cseq: 11 }), bound());
    expect(other).toMatchObject({ status: 200, change: 'fetched', binding: bound() });
  });

  it('lists the binding without Contact (a fetch), with the seconds left', () => {
    const r = run(register({ contacts: [] }), bound({ expiresAt: NOW + 90_500 }));
    expect(r).toMatchObject({ status: 200, change: 'fetched' });
    expect(getHeaders(res(r.response), 'Contact')).toEqual(['<sip:hd-12@192.168.1.50:5062>;expires=91']);
    expect(getHeaders(res(run(register({ contacts: [] })).response), 'Contact')).toEqual([]);
  });

  it('refuses an AOR that is not the authenticated user (403) and a To that is not a SIP URI (400)', () => {
    expect(run(register({ user: 'hd-13' }), bound())).toMatchObject({ status: 403, change: 'rejected', binding: bound() });
    const unksm2 = req(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'rfc4475', 'unksm2.dat'), 'latin1'));
    expect(run(unksm2).status).toBe(400); // RFC 4475 §3.3.4: the AOR must be a SIP or SIPS URI
  });

  it('refuses an older or repeated CSeq on the same Call-ID, accepts any CSeq on a new Call-ID', () => {
    expect(run(register({ cseq: 10 }), bound())).toMatchObject({ status: 400, change: 'rejected', binding: bound() });
    expect(run(register({ cseq: 9, contacts: ['*'], expires: '0' }), bound()).status).toBe(400);
    expect(run(register({ cseq: 11 }), bound())).toMatchObject({ status: 200, change: 'refreshed' });
    expect(run(register({ cseq: 1, callId: 'after-reboot' }), bound())).toMatchObject({ status: 200, change: 'bound' });
  });

  it('replaces the binding with a new Contact; an expired binding counts as none', () => {
    const r = run(register({ contacts: ['<sip:hd-12@192.168.1.77:5060>'], cseq: 11 }), bound());
    expect(r.binding?.contact).toBe('sip:hd-12@192.168.1.77:5060');
    expect(r.change).toBe('bound');
    const stale = run(register({ cseq: 1 }), bound({ expiresAt: NOW - 1 }));
    expect(stale).toMatchObject({ status: 200, change: 'bound' });
    expect(run(register({ contacts: [] }), bound({ expiresAt: NOW })).binding).toBeNull();
  });

  it('refuses a Contact that is not a SIP URI', () => {
    expect(run(register({ contacts: ['<mailto:x@y>'] })).status).toBe(400);
    expect(run(register({ contacts: [`<sip:${'a'.repeat(1100)}@h>`] })).status).toBe(400);
  });

  describe('RFC 4475 registrations', () => {
    const fixture = (name: string): SipRequest => req(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'rfc4475', `${name}.dat`), 'latin1'));

    it('cparam01: an addr-spec parameter is a contact parameter, not part of the URI', () => {
      const r = run(fixture('cparam01'), null, { username: 'watson' });
      expect(r.binding?.contact).toBe('sip:+19725552222@gw1.example.net');
      expect(getHeaders(res(r.response), 'Contact')).toEqual(['<sip:+19725552222@gw1.example.net>;expires=3600']);
    });

    it('cparam02: a parameter inside <> stays in the URI', () => {
      expect(run(fixture('cparam02'), null, { username: 'watson' }).binding?.contact).toBe('sip:+19725552222@gw1.example.net;unknownparam');
    });

    it('regescrt: an escaped header in the Contact URI is kept', () => {
      const r = run(fixture('regescrt'), null, { username: 'user' });
      expect(r.binding?.contact).toBe('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
    });

    it('escnull: the AOR user keeps its escaped NUL; one binding per line keeps the first contact', () => {
      expect(run(fixture('escnull'), null, { username: 'null-' }).status).toBe(403);
      const r = run(fixture('escnull'), null, { username: 'null-\0-null' });
      expect(r.status).toBe(200);
      expect(r.binding?.contact).toBe('sip:%00@host5.example.com');
    });
  });
});
