/**
 * Store contract, phones and their runtime: look-ups by any MAC notation, each phone's own sealed
 * provisioning credential, the credential lifecycle, identity keys, auto-enrolment with its audit,
 * and the hot-desk line row that follows the phone's hotdesk flag.
 */
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import type { Phone } from '../../../agent/core/model.js';
import { backends, useBackend } from './backends.js';
import { LIFT, NOBODY, PHONES, POLY, phoneOf, rejection, SNOM, seed, T0, userOf, YEALINK } from './fixtures.js';

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('phones and runtime', () => {
    const b = useBackend(backend);

    test('phones round-trip, by MAC, found in any notation', async () => {
      const { store } = await b.open();
      await seed(store);
      expect((await store.listPhones()).map((p) => p.mac)).toEqual([SNOM, POLY, YEALINK, LIFT].sort());
      expect(await store.listPhones()).toEqual([...PHONES].sort((x, y) => x.mac.localeCompare(y.mac)));
      expect(await store.getPhone('00:15:65:AA:BB:01')).toEqual(phoneOf(YEALINK));
      expect(await store.getPhone('0015.65aa.bb01')).toEqual(phoneOf(YEALINK));
      expect((await store.getPhone(LIFT))?.deviceAccount?.password).toBe('lift-secret');
      expect(await store.getPhone(POLY)).not.toHaveProperty('location');
      expect(await store.getPhone(POLY)).not.toHaveProperty('sipPort');
      expect(await store.getPhone('nonsense')).toBeUndefined();
      expect(await store.getPhone(NOBODY)).toBeUndefined();
    });

    test('a new phone: its own random credential and screen token, revision 1, pending since it was added', async () => {
      const { store } = await b.open();
      await seed(store, T0 + 42);
      const a = await store.phoneRuntime(YEALINK);
      const c = await store.phoneRuntime(SNOM);
      expect(a).toEqual({
        revision: 1,
        provUsername: expect.stringMatching(/^hd-[0-9a-f]{12}$/),
        provPassword: expect.any(String),
        ownCredentialUsed: false,
        screenToken: expect.any(String),
        enrolledVia: 'directory',
        lastIp: null,
        notifyIp: null,
        lastUserAgent: null,
        lastFirmware: null,
        lastFile: null,
        lastSeen: null,
        sipPort: 5060,
        sync: { state: 'pending', revision: 1, requestedAt: T0 + 42, confirmedAt: null, elapsedMs: null, attempts: 0, nextAt: T0 + 42 },
      });
      expect(a?.provPassword.length).toBeGreaterThanOrEqual(20);
      expect(a?.provUsername).not.toBe(c?.provUsername);
      expect(a?.provPassword).not.toBe(c?.provPassword);
      expect(a?.screenToken).not.toBe(c?.screenToken);
      expect(await store.phoneRuntime('00-15-65-aa-bb-01')).toEqual(a);
      expect(await store.provisioningRuntime(YEALINK)).toMatchObject({
        revision: a?.revision,
        provUsername: a?.provUsername,
        provPassword: a?.provPassword,
        ownCredentialUsed: false,
        screenToken: a?.screenToken,
      });
      expect((await store.findPhoneByProvUsername(a?.provUsername ?? ''))?.mac).toBe(YEALINK);
      expect(await store.findPhoneByProvUsername('hd-000000000000')).toBeUndefined();
      for (const mac of ['nonsense', NOBODY]) {
        expect(await store.phoneRuntime(mac)).toBeUndefined();
        expect(await store.provisioningRuntime(mac)).toBeUndefined();
      }
    });

    test('provisioning password and device account are sealed in their columns', async () => {
      const s = await b.open();
      await seed(s.store);
      const rt = await s.store.phoneRuntime(LIFT);
      const [row] = await s.raw<{ prov_password_enc: string; device_account_enc: string; device_sip_user: string }>(
        'SELECT prov_password_enc, device_account_enc, device_sip_user FROM phones WHERE mac = ?',
        [LIFT],
      );
      expect(row?.device_sip_user).toBe('lift'); // not a secret: the look-up key
      expect(row?.prov_password_enc).toMatch(/^v1:/);
      expect(row?.device_account_enc).toMatch(/^v1:/);
      expect(row?.prov_password_enc).not.toContain(rt?.provPassword ?? 'x');
      expect(row?.device_account_enc).not.toContain('lift-secret');
    });

    test('putPhone on a known phone changes its directory fields and keeps its runtime', async () => {
      const s = await b.open();
      const { store } = s;
      await seed(store);
      const before = await store.phoneRuntime(LIFT);
      const [sealed] = await s.raw<{ device_account_enc: string }>('SELECT device_account_enc FROM phones WHERE mac = ?', [LIFT]);
      const lift = phoneOf(LIFT);
      const changed: Phone = { ...lift, label: 'Lift B', location: 'lobby', sipPort: 5070, keys: [{ kind: 'speed', label: 'Desk', value: '101' }] };
      await store.putPhone(changed, 'directory', T0 + 10);
      expect(await store.getPhone(LIFT)).toEqual(changed);
      const after = await store.phoneRuntime(LIFT);
      expect(after).toEqual({ ...before, sipPort: 5070 });
      // the same device account is not re-sealed; a new one is
      const [same] = await s.raw<{ device_account_enc: string }>('SELECT device_account_enc FROM phones WHERE mac = ?', [LIFT]);
      expect(same?.device_account_enc).toBe(sealed?.device_account_enc);
      const account = { user: 'lift2', authName: 'lift2', password: 'lift2-secret', displayName: 'Lift 2' };
      await store.putPhone({ ...lift, deviceAccount: account }, 'auto', T0 + 11);
      expect((await store.getPhone(LIFT))?.deviceAccount).toEqual(account);
      expect((await store.phoneRuntime(LIFT))?.enrolledVia).toBe('auto');
      expect((await store.findPhoneBySipUser('lift2'))?.mac).toBe(LIFT);
      expect(await store.findPhoneBySipUser('lift')).toBeUndefined();
      // optional fields go when the directory drops them
      const { deviceAccount: _d, ...bare } = lift;
      await store.putPhone(bare, 'directory', T0 + 12);
      expect(await store.getPhone(LIFT)).toEqual(bare);
    });

    test("hot-desk line rows are created and removed with the phone's hotdesk flag", async () => {
      const s = await b.open();
      const { store } = s;
      await seed(store);
      const lineMacs = async (): Promise<string[]> => (await s.raw<{ mac: string }>('SELECT mac FROM hotdesk_lines ORDER BY mac')).map((r) => r.mac);
      expect(await lineMacs()).toEqual([SNOM, POLY, YEALINK].sort());
      const old = await store.getHotdeskLine(SNOM);
      expect(old).toEqual({ mac: SNOM, username: `hd-${SNOM}`, password: expect.stringMatching(/^[A-Za-z0-9]{24}$/), registration: null });
      const [row] = await s.raw<{ password_enc: string }>('SELECT password_enc FROM hotdesk_lines WHERE mac = ?', [SNOM]);
      expect(row?.password_enc).toMatch(/^v1:/);
      expect(row?.password_enc).not.toContain(old?.password ?? 'x');
      // re-writing a hot-desk phone keeps its line
      await store.putPhone({ ...phoneOf(SNOM), label: 'Desk two' }, 'directory', T0 + 1);
      expect(await store.getHotdeskLine(SNOM)).toEqual(old);
      // hot-desking off: the line goes; on again: a new one
      await store.putPhone({ ...phoneOf(SNOM), hotdesk: false }, 'directory', T0 + 2);
      expect(await lineMacs()).toEqual([POLY, YEALINK].sort());
      expect(await store.getHotdeskLine(SNOM)).toBeUndefined();
      await store.putPhone(phoneOf(SNOM), 'directory', T0 + 3);
      const fresh = await store.getHotdeskLine(SNOM);
      expect(fresh?.username).toBe(`hd-${SNOM}`);
      expect(fresh?.password).not.toBe(old?.password);
      // the lift turned hot-desk gets one
      await store.putPhone({ ...phoneOf(LIFT), hotdesk: true }, 'directory', T0 + 4);
      expect(await lineMacs()).toEqual([SNOM, POLY, YEALINK, LIFT].sort());
    });

    test('deletePhone removes the phone with its session and its line', async () => {
      const s = await b.open();
      const { store } = s;
      await seed(store);
      await store.startSession({ phoneMac: YEALINK, userExt: '101', startedAt: T0 + 1 }, true);
      await store.deletePhone(YEALINK);
      expect(await store.getPhone(YEALINK)).toBeUndefined();
      expect(await store.phoneRuntime(YEALINK)).toBeUndefined();
      expect(await store.sessionOf(YEALINK)).toBeUndefined();
      expect(await store.getHotdeskLine(YEALINK)).toBeUndefined();
      expect(await s.raw('SELECT mac FROM hotdesk_lines WHERE mac = ?', [YEALINK])).toEqual([]);
      expect((await store.listPhones()).map((p) => p.mac)).toEqual([SNOM, POLY, LIFT].sort());
      expect(await store.getUser('101')).toEqual(userOf('101'));
      await store.deletePhone(YEALINK); // gone already: nothing to do
    });

    test('findPhoneBySipUser: the phone a user is logged in on (latest session) first, then a device account', async () => {
      const { store } = await b.open();
      await seed(store);
      expect((await store.findPhoneBySipUser('lift'))?.mac).toBe(LIFT);
      expect(await store.findPhoneBySipUser('200')).toBeUndefined();
      await store.startSession({ phoneMac: SNOM, userExt: '200', startedAt: T0 + 5 }, false);
      expect((await store.findPhoneBySipUser('200'))?.mac).toBe(SNOM);
      await store.startSession({ phoneMac: POLY, userExt: '200', startedAt: T0 + 9 }, false);
      expect(await store.findPhoneBySipUser('200')).toEqual(phoneOf(POLY));
      // a logged-in user beats a device account with the same SIP user
      await store.putPhone({ ...phoneOf(YEALINK), deviceAccount: { user: '101', authName: '101', password: 'x', displayName: 'x' } }, 'directory', T0);
      expect((await store.findPhoneBySipUser('101'))?.mac).toBe(YEALINK);
      await store.startSession({ phoneMac: LIFT, userExt: '101', startedAt: T0 + 7 }, false);
      expect((await store.findPhoneBySipUser('101'))?.mac).toBe(LIFT);
    });

    test('identity keys: clear PINs and outbound numbers in identities order; users gone or without PIN skipped', async () => {
      const { store } = await b.open();
      await seed(store);
      expect(await store.identityKeysFor(YEALINK)).toEqual([
        { ext: '101', label: 'Alex Sales', pin: '4321', outboundCallerId: '+4930123451' },
        { ext: '102', label: 'Alex Support', pin: '8765', outboundCallerId: '+4930123452' },
      ]);
      await store.putPhone({ ...phoneOf(POLY), identities: ['300', '999', '200', '001'] }, 'directory', T0);
      expect(await store.identityKeysFor('00:04:f2:aa:bb:03')).toEqual([
        { ext: '200', label: 'Sam', pin: '2468' },
        { ext: '001', label: 'Reception', pin: '1234', outboundCallerId: '+4930123450' },
      ]);
      await store.deleteUser('102');
      expect((await store.identityKeysFor(YEALINK)).map((k) => k.ext)).toEqual(['101']);
      expect(await store.identityKeysFor(LIFT)).toEqual([]);
      expect(await store.identityKeysFor(NOBODY)).toEqual([]);
      expect(await store.identityKeysFor('nonsense')).toEqual([]);
    });

    test('credential lifecycle: own credential used, then reset to a new one', async () => {
      const { store } = await b.open();
      await seed(store);
      const before = await store.phoneRuntime(YEALINK);
      await store.markOwnCredentialUsed('00:15:65:aa:bb:01');
      expect((await store.phoneRuntime(YEALINK))?.ownCredentialUsed).toBe(true);
      expect((await store.provisioningRuntime(YEALINK))?.ownCredentialUsed).toBe(true);
      expect((await store.phoneRuntime(SNOM))?.ownCredentialUsed).toBe(false);
      await store.resetEnrolment(YEALINK);
      const after = await store.phoneRuntime(YEALINK);
      expect(after?.ownCredentialUsed).toBe(false);
      expect(after?.provUsername).toMatch(/^hd-[0-9a-f]{12}$/);
      expect(after?.provUsername).not.toBe(before?.provUsername);
      expect(after?.provPassword).not.toBe(before?.provPassword);
      expect(after?.screenToken).toBe(before?.screenToken);
      expect(after?.revision).toBe(before?.revision);
      expect(await store.findPhoneByProvUsername(before?.provUsername ?? '')).toBeUndefined();
      expect((await store.findPhoneByProvUsername(after?.provUsername ?? ''))?.mac).toBe(YEALINK);
    });

    test('setSipPort: the learned port shows on the phone and its runtime', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.setSipPort('00:15:65:AA:BB:01', 5062);
      expect((await store.getPhone(YEALINK))?.sipPort).toBe(5062);
      expect((await store.phoneRuntime(YEALINK))?.sipPort).toBe(5062);
      await store.setSipPort(YEALINK, 5060);
      expect(await store.getPhone(YEALINK)).toEqual(phoneOf(YEALINK));
      expect((await store.phoneRuntime(SNOM))?.sipPort).toBe(5060);
    });

    test('enrolPhone: an unknown phone once, hot-desk with its line, audited; a known phone unchanged', async () => {
      const { store } = await b.open();
      await seed(store);
      const p = await store.enrolPhone({ mac: '00:15:65:12:34:56', vendor: 'yealink', model: 'T46U' }, T0 + 77);
      expect(p).toEqual({ mac: '001565123456', vendor: 'yealink', model: 'T46U', label: 'auto 001565123456', hotdesk: true, identities: [], keys: [] });
      expect(await store.getPhone('001565123456')).toEqual(p);
      expect(await store.enrolPhone({ mac: '001565123456', vendor: 'snom', model: 'D785' }, T0 + 78)).toEqual(p);
      expect(await store.phoneRuntime('001565123456')).toMatchObject({
        revision: 1,
        enrolledVia: 'auto',
        sync: { state: 'pending', revision: 1, requestedAt: T0 + 77, nextAt: T0 + 77 },
      });
      expect((await store.getHotdeskLine('001565123456'))?.username).toBe('hd-001565123456');
      expect(await store.queryAudit({ kinds: ['enrolment'] })).toEqual([
        { id: expect.any(Number), kind: 'enrolment', at: T0 + 77, phone: '001565123456', detail: { vendor: 'yealink', model: 'T46U' }, ...backend.auditStamp },
      ]);
      // a directory phone is returned as it is, and not audited
      expect(await store.enrolPhone({ mac: LIFT, vendor: 'yealink', model: 'T46U' }, T0 + 79)).toEqual(phoneOf(LIFT));
      expect(await store.queryAudit({ kinds: ['enrolment'] })).toHaveLength(1);
      expect((await store.phoneRuntime(LIFT))?.enrolledVia).toBe('directory');
      const e = await rejection(store.enrolPhone({ mac: 'not-a-mac', vendor: 'yealink', model: 'T46U' }, T0));
      expect(isHotdeskError(e, 'bad-request')).toBe(true);
      expect(await store.listPhones()).toHaveLength(PHONES.length + 1);
    });
  });
});
