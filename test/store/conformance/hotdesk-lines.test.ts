/**
 * Store contract, hot-desk line registrations: look-ups of a phone's line, and the binding the agent
 * keeps as the line's registrar (registered, refreshed, unregistered, unchanged), audited and heard by
 * change listeners only when the line goes registered <-> not.
 */
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import type { LineRegistration } from '../../../agent/store/store-types.js';
import { backends, useBackend } from './backends.js';
import { LIFT, NOBODY, POLY, rejection, SNOM, seed, T0, YEALINK } from './fixtures.js';

const REG: LineRegistration = {
  contact: 'sip:hd-001565aabb01@10.0.0.21:5062',
  address: '10.0.0.21',
  port: 5062,
  transport: 'udp',
  userAgent: 'Yealink SIP-T46U 108.86.0.45',
  callId: 'abc@10.0.0.21',
  cseq: 1,
  registeredAt: T0,
  expiresAt: T0 + 3_600_000,
};

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('hot-desk line registrations', () => {
    const b = useBackend(backend);

    test('every hot-desk phone has its line: by MAC in any notation, by SIP user name, listed without passwords', async () => {
      const { store } = await b.open();
      await seed(store);
      const passwords = new Set<string>();
      for (const mac of [YEALINK, SNOM, POLY]) {
        const line = await store.getHotdeskLine(mac);
        expect(line, mac).toEqual({ mac, username: `hd-${mac}`, password: expect.stringMatching(/^[A-Za-z0-9]{24}$/), registration: null });
        expect(await store.findHotdeskLine(`hd-${mac}`)).toEqual(line);
        passwords.add(line?.password ?? '');
      }
      expect(passwords.size).toBe(3);
      expect((await store.getHotdeskLine('00:15:65:AA:BB:01'))?.mac).toBe(YEALINK);
      expect(await store.getHotdeskLine(LIFT)).toBeUndefined();
      expect(await store.getHotdeskLine(NOBODY)).toBeUndefined();
      expect(await store.getHotdeskLine('nonsense')).toBeUndefined();
      expect(await store.findHotdeskLine(`hd-${LIFT}`)).toBeUndefined();
      expect(await store.findHotdeskLine('hd-nobody')).toBeUndefined();
      expect(await store.listLineRegistrations()).toEqual([POLY, SNOM, YEALINK].sort().map((mac) => ({ mac, username: `hd-${mac}`, registration: null })));
    });

    test('registered, unchanged, refreshed, unregistered: audited and heard only on a change of state', async () => {
      const { store } = await b.open();
      await seed(store);
      const heard: string[][] = [];
      store.onChange((macs) => heard.push([...macs]));
      const lineAudit = async (): Promise<number> => (await store.queryAudit({ kinds: ['line-registered', 'line-unregistered'] })).length;

      expect(await store.setLineRegistration('00:15:65:aa:bb:01', REG, T0)).toBe('registered');
      expect((await store.getHotdeskLine(YEALINK))?.registration).toEqual(REG);
      expect((await store.findHotdeskLine(`hd-${YEALINK}`))?.registration).toEqual(REG);
      expect(heard).toEqual([[YEALINK]]);
      const [reg] = await store.queryAudit({ kinds: ['line-registered'] });
      expect(reg).toEqual({
        id: expect.any(Number),
        kind: 'line-registered',
        phone: YEALINK,
        at: T0,
        detail: { address: '10.0.0.21', port: 5062, transport: 'udp', expiresAt: REG.expiresAt, userAgent: REG.userAgent ?? null },
        ...backend.auditStamp,
      });
      expect(JSON.stringify(reg)).not.toContain((await store.getHotdeskLine(YEALINK))?.password ?? 'x');

      expect(await store.setLineRegistration(YEALINK, { ...REG }, T0 + 500)).toBe('unchanged');
      const refresh: LineRegistration = { ...REG, cseq: 2, registeredAt: T0 + 500_000, expiresAt: T0 + 500_000 + 3_600_000 };
      expect(await store.setLineRegistration(YEALINK, refresh, T0 + 500_000)).toBe('refreshed');
      expect((await store.getHotdeskLine(YEALINK))?.registration).toEqual(refresh);
      expect((await store.listLineRegistrations()).find((l) => l.mac === YEALINK)).toEqual({ mac: YEALINK, username: `hd-${YEALINK}`, registration: refresh });
      expect(await lineAudit()).toBe(1);
      expect(heard).toHaveLength(1);

      expect(await store.setLineRegistration(YEALINK, null, T0 + 1_000_000)).toBe('unregistered');
      expect((await store.getHotdeskLine(YEALINK))?.registration).toBeNull();
      expect((await store.queryAudit({ kinds: ['line-unregistered'] }))[0]).toEqual({
        id: expect.any(Number),
        kind: 'line-unregistered',
        phone: YEALINK,
        at: T0 + 1_000_000,
        detail: { reason: 'unregistered' },
        ...backend.auditStamp,
      });
      expect(await store.setLineRegistration(YEALINK, null, T0 + 1_000_001)).toBe('unchanged');
      expect(await lineAudit()).toBe(2);
      expect(heard).toEqual([[YEALINK], [YEALINK]]);
    });

    test('a binding that lapsed counts as not registered; a TCP binding without User-Agent round-trips', async () => {
      const { store } = await b.open();
      await seed(store);
      const { userAgent: _ua, ...noUa } = REG;
      const tcp: LineRegistration = { ...noUa, transport: 'tcp', contact: `sip:hd-${SNOM}@10.0.0.22:5060;transport=tcp` };
      expect(await store.setLineRegistration(SNOM, tcp, T0)).toBe('registered');
      expect((await store.getHotdeskLine(SNOM))?.registration).toEqual(tcp);
      expect((await store.getHotdeskLine(SNOM))?.registration).not.toHaveProperty('userAgent');
      const later = REG.expiresAt + 1;
      expect(await store.setLineRegistration(SNOM, { ...tcp, cseq: 9, registeredAt: later, expiresAt: later + 60_000 }, later)).toBe('registered');
      expect(await store.setLineRegistration(SNOM, null, later + 120_000)).toBe('unregistered');
      const events = await store.queryAudit({ phone: SNOM, kinds: ['line-registered', 'line-unregistered'], limit: 10 });
      expect(events.map((e) => [e.kind, e.detail?.['reason'] ?? null, e.detail?.['userAgent'] ?? null])).toEqual([
        ['line-registered', null, null],
        ['line-registered', null, null],
        ['line-unregistered', 'expired', null],
      ]);
      // the other lines are untouched
      expect((await store.getHotdeskLine(YEALINK))?.registration).toBeNull();
    });

    test('a phone without a line is refused with unknown-phone, and nothing is audited or heard', async () => {
      const { store } = await b.open();
      await seed(store);
      const heard: string[][] = [];
      store.onChange((macs) => heard.push([...macs]));
      for (const mac of [LIFT, NOBODY, 'nonsense']) {
        const e = await rejection(store.setLineRegistration(mac, REG, T0));
        expect(isHotdeskError(e, 'unknown-phone'), mac).toBe(true);
      }
      expect(heard).toEqual([]);
      expect(await store.queryAudit({ kinds: ['line-registered'] })).toEqual([]);
    });

    test('a line keeps its binding across a restart and loses it with hot-desking', async () => {
      const s = await b.open();
      await seed(s.store);
      await s.store.setLineRegistration(POLY, REG, T0);
      const line = await s.store.getHotdeskLine(POLY);
      const again = await b.reopen(s);
      expect(await again.store.getHotdeskLine(POLY)).toEqual(line);
      await again.store.putPhone({ mac: POLY, vendor: 'poly', model: 'VVX450', label: 'Desk 3', hotdesk: false, identities: [], keys: [] }, 'directory', T0);
      expect(await again.store.getHotdeskLine(POLY)).toBeUndefined();
      expect((await again.store.listLineRegistrations()).map((l) => l.mac)).toEqual([SNOM, YEALINK].sort());
    });
  });
});
