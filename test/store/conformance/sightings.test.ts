/**
 * Store contract, quarantined sightings: one row per MAC counting repeats, capped per source and in
 * total (old rows make room), listed most recent first; accepting one enrols the phone (hot-desk, with
 * its line, audited), dismissing one forgets it.
 */
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import type { Vendor } from '../../../agent/core/model.js';
import { backends, useBackend } from './backends.js';
import { phoneOf, rejection, seed, T0, YEALINK } from './fixtures.js';

const mac = (i: number): string => `0015650000${String(i).padStart(2, '0')}`;
const known = (v: Vendor, m: string): string | undefined => (v === 'yealink' && m.toUpperCase() === 'T46U' ? 'T46U' : undefined);

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('sightings', () => {
    const b = useBackend(backend);

    test('a new MAC, then repeats: counted, latest address and time, vendor and model kept unless given', async () => {
      const { store } = await b.open();
      expect(await store.listSightings()).toEqual([]);
      expect(await store.recordSighting({ mac: '00:15:65:11:22:33', ip: '10.0.0.9', vendor: 'yealink', at: T0 + 7, via: 'http' })).toBe('new');
      expect(await store.recordSighting({ mac: '001565112233', ip: '10.0.0.10', model: 'T46U', at: T0 + 8 })).toBe('repeat');
      expect(await store.recordSighting({ mac: '001565112233', ip: '10.0.0.11', at: T0 + 9, via: 'tftp' })).toBe('repeat');
      expect(await store.listSightings()).toEqual([
        { mac: '001565112233', firstAt: T0 + 7, at: T0 + 9, ip: '10.0.0.11', vendor: 'yealink', model: 'T46U', count: 3, via: 'http' },
      ]);
      expect(await store.recordSighting({ mac: '000413112233', ip: '10.0.0.12', at: T0 + 3 })).toBe('new');
      expect(await store.recordSighting({ mac: '0004f2112233', ip: '10.0.0.12', at: T0 + 9 })).toBe('new');
      // most recent first, then by MAC; `pnp` when no channel is named
      expect(await store.listSightings()).toEqual([
        { mac: '0004f2112233', firstAt: T0 + 9, at: T0 + 9, ip: '10.0.0.12', vendor: null, model: null, count: 1, via: 'pnp' },
        expect.objectContaining({ mac: '001565112233' }),
        { mac: '000413112233', firstAt: T0 + 3, at: T0 + 3, ip: '10.0.0.12', vendor: null, model: null, count: 1, via: 'pnp' },
      ]);
      expect(await store.recordSighting({ mac: 'not-a-mac', ip: '10.0.0.9', at: T0 })).toBe('capped');
      expect(await store.listSightings()).toHaveLength(3);
    });

    test('capped per source and in total; rows older than maxAgeMs make room', async () => {
      const { store } = await b.open();
      const caps = { perSource: 3, total: 5, maxAgeMs: 1_000 };
      const first: string[] = [];
      for (const i of [0, 1, 2, 3])
        first.push(await store.recordSighting({ mac: mac(i), ip: '10.0.0.1', vendor: 'yealink', model: 'T46U', at: T0 + 10, via: 'http' }, caps));
      expect(first).toEqual(['new', 'new', 'new', 'capped']);
      // repeats of a known MAC are never capped
      expect(await store.recordSighting({ mac: mac(0), ip: '10.0.0.1', at: T0 + 20 }, caps)).toBe('repeat');
      expect(await store.recordSighting({ mac: mac(4), ip: '10.0.0.2', at: T0 + 12 }, caps)).toBe('new');
      expect(await store.recordSighting({ mac: mac(5), ip: '10.0.0.3', at: T0 + 13 }, caps)).toBe('new');
      // full: a new one is refused until old rows age out
      expect(await store.recordSighting({ mac: mac(6), ip: '10.0.0.4', at: T0 + 14 }, caps)).toBe('capped');
      expect(await store.listSightings()).toHaveLength(5);
      expect(await store.recordSighting({ mac: mac(6), ip: '10.0.0.4', at: T0 + 1_012 }, caps)).toBe('new');
      expect((await store.listSightings()).map((x) => x.mac).sort()).toEqual([mac(0), mac(4), mac(5), mac(6)].sort());
    });

    test('accept enrols the phone (known model, hot-desk, its line, audited) and forgets the sighting', async () => {
      const { store } = await b.open();
      await store.recordSighting({ mac: mac(1), ip: '10.0.0.9', vendor: 'yealink', model: 't46u', at: T0, via: 'http' });
      const phone = await store.acceptSighting('00:15:65:00:00:01', known, T0 + 20);
      expect(phone).toEqual({ mac: mac(1), vendor: 'yealink', model: 'T46U', label: `auto ${mac(1)}`, hotdesk: true, identities: [], keys: [] });
      expect(await store.getPhone(mac(1))).toEqual(phone);
      expect((await store.phoneRuntime(mac(1)))?.enrolledVia).toBe('auto');
      expect((await store.getHotdeskLine(mac(1)))?.username).toBe(`hd-${mac(1)}`);
      expect(await store.listSightings()).toEqual([]);
      expect(await store.queryAudit({ kinds: ['enrolment'] })).toEqual([
        { id: expect.any(Number), kind: 'enrolment', at: T0 + 20, phone: mac(1), detail: { vendor: 'yealink', model: 'T46U' }, ...backend.auditStamp },
      ]);
    });

    test('accepting the sighting of a phone already enrolled returns it unchanged, unaudited, and forgets the sighting', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.recordSighting({ mac: YEALINK, ip: '10.0.0.9', vendor: 'yealink', model: 'T46U', at: T0 });
      expect(await store.acceptSighting(YEALINK, known, T0 + 1)).toEqual(phoneOf(YEALINK));
      expect((await store.phoneRuntime(YEALINK))?.enrolledVia).toBe('directory');
      expect(await store.listSightings()).toEqual([]);
      expect(await store.queryAudit()).toEqual([]);
    });

    test('accept refuses an unknown or missing model and a MAC without a sighting; nothing changes', async () => {
      const { store } = await b.open();
      await store.recordSighting({ mac: mac(2), ip: '10.0.0.9', vendor: 'yealink', model: 'T99X', at: T0 });
      await store.recordSighting({ mac: mac(3), ip: '10.0.0.9', at: T0 });
      for (const m of [mac(2), mac(3)]) {
        const e = await rejection(store.acceptSighting(m, known, T0 + 1));
        expect(isHotdeskError(e, 'unknown-model'), m).toBe(true);
      }
      expect(isHotdeskError(await rejection(store.acceptSighting(mac(9), known, T0 + 1)), 'unknown-phone')).toBe(true);
      expect(isHotdeskError(await rejection(store.acceptSighting('not-a-mac', known, T0 + 1)), 'bad-request')).toBe(true);
      expect(await store.listSightings()).toHaveLength(2);
      expect(await store.listPhones()).toEqual([]);
      expect(await store.queryAudit()).toEqual([]);
    });

    test('dismiss forgets a sighting once', async () => {
      const { store } = await b.open();
      await store.recordSighting({ mac: mac(5), ip: '10.0.0.9', at: T0 });
      await store.recordSighting({ mac: mac(6), ip: '10.0.0.9', at: T0 });
      expect(await store.dismissSighting('00:15:65:00:00:05')).toBe(true);
      expect(await store.dismissSighting(mac(5))).toBe(false);
      expect(await store.dismissSighting('not-a-mac')).toBe(false);
      expect((await store.listSightings()).map((x) => x.mac)).toEqual([mac(6)]);
    });
  });
});
