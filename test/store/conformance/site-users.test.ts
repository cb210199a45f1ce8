/**
 * Store contract, site and users: the default site of a fresh store, site secrets and user secrets
 * sealed in their columns (the raw column never holds the clear text), PIN checks, and user writes.
 */
import { describe, expect, test } from 'vitest';
import type { SiteSettings } from '../../../agent/core/model.js';
import { defaultSite } from '../../../agent/store/default-site.js';
import { backends, useBackend } from './backends.js';
import { SNOM, seed, T0, USERS, userOf } from './fixtures.js';

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('site and users', () => {
    const b = useBackend(backend);

    test('a fresh store has the default site: no auto-enrolment, a random bootstrap password', async () => {
      const { store } = await b.open();
      const site = await store.getSite();
      expect(site).toEqual(defaultSite(site.provisioning.bootstrap.password));
      expect(site.provisioning.bootstrap.password.length).toBeGreaterThanOrEqual(20);
      const other = await (await b.open()).store.getSite();
      expect(other.provisioning.bootstrap.password).not.toBe(site.provisioning.bootstrap.password);
      expect(await store.listUsers()).toEqual([]);
      expect(await store.listPhones()).toEqual([]);
    });

    test('putSite replaces the settings; its secrets are sealed in the row and survive a restart', async () => {
      const s = await b.open();
      const site: SiteSettings = {
        ...defaultSite('bootstrap-clear-pw-4711'),
        name: 'Conformance office',
        timezone: 'Europe/Berlin',
        policies: { identitySwitch: 'strict', multipleLogin: 'allow' },
        apiTokens: ['token-clear-0815', 'token-clear-0816'],
      };
      await s.store.putSite(site, T0);
      expect(await s.store.getSite()).toEqual(site);
      const [row] = await s.raw<{ settings: string; secrets_enc: string }>('SELECT settings, secrets_enc FROM site WHERE id = 1');
      expect(row?.settings).toContain('Conformance office');
      expect(row?.secrets_enc).toMatch(/^v1:/);
      for (const secret of ['bootstrap-clear-pw-4711', 'token-clear-0815', 'token-clear-0816']) {
        expect(row?.settings, secret).not.toContain(secret);
        expect(row?.secrets_enc, secret).not.toContain(secret);
      }
      const again = await b.reopen(s);
      expect(await again.store.getSite()).toEqual(site);
    });

    test('users round-trip by short number, optional SIP fields present or absent', async () => {
      const { store } = await b.open();
      await seed(store);
      expect((await store.listUsers()).map((u) => u.ext)).toEqual(['001', '101', '102', '200', '300']);
      expect(await store.listUsers()).toEqual(USERS.map((u) => u.user));
      expect(await store.getUser('101')).toEqual(userOf('101'));
      const nopin = await store.getUser('300');
      expect(nopin).toEqual(userOf('300'));
      expect(nopin?.sip).not.toHaveProperty('outboundCallerId');
      expect(nopin?.sip).not.toHaveProperty('voicemailNumber');
      expect(nopin?.hotdesk).toBe(false);
      expect(await store.getUser('999')).toBeUndefined();
      expect(await store.getUser('1')).toBeUndefined(); // leading zeros count: 001 is not 1
    });

    test('PINs: has, clear value, verify; unknown users and users without a PIN never verify', async () => {
      const { store } = await b.open();
      await seed(store);
      expect(await store.userHasPin('101')).toBe(true);
      expect(await store.userHasPin('300')).toBe(false);
      expect(await store.userHasPin('999')).toBe(false);
      expect(await store.userPin('102')).toBe('8765');
      expect(await store.userPin('300')).toBeUndefined();
      expect(await store.userPin('999')).toBeUndefined();
      expect(await store.verifyPin('101', '4321')).toBe(true);
      expect(await store.verifyPin('101', '4322')).toBe(false);
      expect(await store.verifyPin('101', '')).toBe(false);
      expect(await store.verifyPin('102', '4321')).toBe(false);
      expect(await store.verifyPin('300', '')).toBe(false);
      expect(await store.verifyPin('999', '4321')).toBe(false);
    });

    test('null removes the PIN', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.putUser(userOf('101'), null, T0 + 1);
      expect(await store.userHasPin('101')).toBe(false);
      expect(await store.userPin('101')).toBeUndefined();
      expect(await store.verifyPin('101', '4321')).toBe(false);
      expect(await store.getUser('101')).toEqual(userOf('101'));
    });

    test('SIP password and PIN are sealed in their columns; an unchanged PIN and password keep their sealed values', async () => {
      const s = await b.open();
      const { store } = s;
      const u = { ext: '777', name: 'Pin Test', hotdesk: true, sip: { user: '777', authName: '777', password: 'pw-777-xyzzy', displayName: 'P' } };
      await store.putUser(u, '739158246', T0);
      type Row = { sip_password_enc: string; pin_hash: string; pin_enc: string };
      const read = async (): Promise<Row | undefined> => (await s.raw<Row>('SELECT sip_password_enc, pin_hash, pin_enc FROM users WHERE ext = ?', ['777']))[0];
      const first = await read();
      expect(first?.sip_password_enc).toMatch(/^v1:/);
      expect(first?.pin_enc).toMatch(/^v1:/);
      expect(first?.pin_hash).toMatch(/^hmac-sha256\$/);
      for (const col of [first?.sip_password_enc, first?.pin_hash, first?.pin_enc]) {
        expect(col).not.toContain('739158246');
        expect(col).not.toContain('pw-777-xyzzy');
      }
      // the same PIN and password again (a re-import): nothing re-sealed or re-hashed
      await store.putUser({ ...u, name: 'Pin Test renamed' }, '739158246', T0 + 1);
      expect(await read()).toEqual(first);
      expect((await store.getUser('777'))?.name).toBe('Pin Test renamed');
      // a new PIN and password: new values, the old PIN no longer verifies
      await store.putUser({ ...u, sip: { ...u.sip, password: 'pw-777-new' } }, '135792468', T0 + 2);
      const second = await read();
      expect(second?.pin_hash).not.toBe(first?.pin_hash);
      expect(second?.sip_password_enc).not.toBe(first?.sip_password_enc);
      expect(await store.verifyPin('777', '135792468')).toBe(true);
      expect(await store.verifyPin('777', '739158246')).toBe(false);
      expect((await store.getUser('777'))?.sip.password).toBe('pw-777-new');
      // the PIN still verifies after a restart (same data key)
      const again = await b.reopen(s);
      expect(await again.store.verifyPin('777', '135792468')).toBe(true);
      expect(await again.store.userPin('777')).toBe('135792468');
    });

    test('putUser updates in place; deleteUser removes the user and their sessions', async () => {
      const { store } = await b.open();
      await seed(store);
      const sam = userOf('200');
      const changed = { ...sam, name: 'Samantha', hotdesk: false, sip: { ...sam.sip, displayName: 'Sam S', voicemailNumber: '*98' } };
      await store.putUser(changed, '2468', T0 + 5);
      expect(await store.getUser('200')).toEqual(changed);
      expect(await store.verifyPin('200', '2468')).toBe(true);
      expect(await store.listUsers()).toHaveLength(USERS.length);

      await store.startSession({ phoneMac: SNOM, userExt: '200', startedAt: T0 + 6 }, true);
      await store.deleteUser('200');
      expect(await store.getUser('200')).toBeUndefined();
      expect(await store.sessionOf(SNOM)).toBeUndefined();
      expect(await store.sessionsOfUser('200')).toEqual([]);
      expect((await store.listUsers()).map((u) => u.ext)).toEqual(['001', '101', '102', '300']);
      await store.deleteUser('200'); // gone already: nothing to do
      await store.deleteUser('999');
      expect(await store.listUsers()).toHaveLength(USERS.length - 1);
    });
  });
});
