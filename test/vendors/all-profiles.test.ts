/**
 * Every shipped firmware profile (all vendors, merged over its family bases)
 * rendered in every hot-desk state: logged out, logged in, identity
 * switched, logged out again. For each: the merged profile passes the schema,
 * the key layout fits, every account slot and every key slot is written and
 * cleared when nobody is logged in, secrets stay in the one secret file, and
 * escaping holds. New models are covered without touching this file.
 */
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import type { KeySpec, Phone, User } from '../../agent/core/model.js';
import type { PhoneFile, RenderInput } from '../../agent/vendors/driver.js';
import type { FirmwareProfile } from '../../agent/vendors/firmware-profile.js';
import { FIRMWARE_PROFILE_SCHEMA } from '../../agent/vendors/firmware-profile-schema.js';
import { keyCapacity, keyLayout } from '../../agent/vendors/key-layout.js';
import { renderAllPhoneFiles } from '../../agent/vendors/render.js';
import { checkSchema } from '../../agent/vendors/schema-check.js';
import { hotdeskLineSlot } from '../../agent/vendors/hotdesk-line.js';
import { input, LINE_PASSWORD, phone, profiles, registry, USER_101, USER_102 } from './fixtures.js';

const SECRETS = ['alice-sip-pw', 'bob-sip-pw', 'phone-prov-pw', '*35*101*1234', '*35*102*5678', 'tok123', LINE_PASSWORD];

/** The fixture phone, with identities and IT keys dropped from the end until the model's layout holds them. */
function phoneFor(profile: FirmwareProfile): Phone {
  let identities = ['101', '102'];
  let keys: KeySpec[] = [
    { kind: 'blf', label: 'Reception', value: '100' },
    { kind: 'speed', label: 'Support', value: '200' },
  ];
  for (;;) {
    const p = phone(profile.vendor, profile.model, { identities, keys });
    try {
      keyLayout(p, profile, { hotdeskMenu: p.hotdesk });
      return p;
    } catch (e) {
      if (!isHotdeskError(e, 'too-many-keys')) throw e;
      if (keys.length > 0) keys = keys.slice(0, -1);
      else if (identities.length > 0) identities = identities.slice(0, -1);
      else throw e;
    }
  }
}

function secretFileOf(files: readonly PhoneFile[]): PhoneFile {
  const secret = files.filter((f) => f.secret);
  expect(secret.length).toBe(1);
  const f = secret[0];
  if (!f) throw new Error('no secret file');
  return f;
}

/** Asserts that account slot `n` carries the fixture's hot-desk line. */
function assertHotdeskLine(profile: FirmwareProfile, body: string, n: number, mac: string): void {
  const user = `hd-${mac}`;
  if (profile.vendor === 'yealink') {
    expect(body, `account ${n}`).toContain(`account.${n}.enable = 1\n`);
    expect(body).toContain(`account.${n}.user_name = ${user}\n`);
    expect(body).toContain(`account.${n}.password = ${LINE_PASSWORD}\n`);
  } else if (profile.vendor === 'snom') {
    expect(body, `identity ${n}`).toContain(`<user_active idx="${n}" perm="">on</user_active>`);
    expect(body).toContain(`<user_pass idx="${n}" perm="">${LINE_PASSWORD}</user_pass>`);
  } else {
    expect(body, `reg ${n}`).toContain(`reg.${n}.auth.password="${LINE_PASSWORD}"`);
    expect(body).toContain(`reg.${n}.server.1.register="1"`);
  }
}

/** Asserts that every account slot of the model but the hot-desk line's (`line`, 0 for none) is written and cleared. */
function assertAccountsCleared(profile: FirmwareProfile, body: string, deviceAccount: boolean, line: number): void {
  for (let n = deviceAccount ? 2 : 1; n <= profile.accounts; n += 1) {
    if (n === line) continue;
    if (profile.vendor === 'yealink') {
      expect(body, `account ${n}`).toContain(`account.${n}.enable = 0\n`);
      expect(body).toContain(`account.${n}.password = %NULL%\n`);
      expect(body).toContain(`account.${n}.user_name = %NULL%\n`);
    } else if (profile.vendor === 'snom') {
      expect(body, `identity ${n}`).toContain(`<user_active idx="${n}" perm="">off</user_active>`);
      expect(body).toContain(`<user_pass idx="${n}" perm=""></user_pass>`);
    } else {
      expect(body, `reg ${n}`).toContain(`reg.${n}.auth.password=""`);
      expect(body).toContain(`reg.${n}.server.1.register="0"`);
    }
  }
  const next = profile.accounts + 1;
  const beyond = profile.vendor === 'yealink' ? `account.${next}.` : profile.vendor === 'snom' ? `idx="${next}" perm="">off` : `reg.${next}.`;
  expect(body).not.toContain(beyond);
}

/** Asserts that every key slot (phone keys, then modules) is written. */
function assertEveryKeyWritten(profile: FirmwareProfile, body: string): void {
  let slot = 0;
  for (let k = 1; k <= profile.lineKeys; k += 1) {
    slot += 1;
    if (profile.vendor === 'yealink') expect(body, `linekey ${k}`).toContain(`linekey.${k}.type = `);
    if (profile.vendor === 'poly') expect(body, `lineKey ${slot}`).toContain(`lineKey.${slot}.category=`);
    if (profile.vendor === 'snom') expect(body, `fkey ${slot - 1}`).toContain(`<fkey idx="${slot - 1}" `);
  }
  for (let m = 1; m <= profile.expansionModules.max; m += 1) {
    for (let k = 1; k <= profile.expansionModules.keysPerModule; k += 1) {
      slot += 1;
      if (profile.vendor === 'yealink') expect(body, `module ${m} key ${k}`).toContain(`expansion_module.${m}.key.${k}.type = `);
      if (profile.vendor === 'poly') expect(body).toContain(`lineKey.${slot}.category=`);
    }
  }
  expect(slot).toBe(keyCapacity(profile));
  if (profile.vendor === 'yealink') expect(body).not.toContain(`linekey.${profile.lineKeys + 1}.type`);
}

describe('every profile in every state', () => {
  const all = profiles.all();

  it('ships at least the 19 original models plus the Yealink list', () => {
    const yealink = all.filter((p) => p.vendor === 'yealink').map((p) => p.model);
    for (const m of [
      'T19P_E2',
      'T21P_E2',
      'T23G',
      'T27G',
      'T29G',
      'T40G',
      'T41P',
      'T42G',
      'T46G',
      'T48G',
      'T41S',
      'T42S',
      'T46S',
      'T48S',
      'T52S',
      'T53',
      'T53W',
      'T54S',
      'T56A',
      'T58A',
      'T58W',
      'T30',
      'T31P',
      'T31W',
      'T34W',
      'T41U',
      'T42U',
      'T44U',
      'T44W',
      'T73U',
      'T74U',
      'T77U',
      'T85W',
      'T87W',
      'CP920',
      'CP960',
      'T31G',
      'T33G',
      'T43U',
      'T46U',
      'T48U',
      'T54W',
      'T57W',
    ]) {
      expect(yealink, m).toContain(m);
    }
    expect(all.length).toBeGreaterThanOrEqual(55);
  });

  for (const profile of all) {
    it(`${profile.vendor} ${profile.model}`, () => {
      // The merged profile is what the schema describes, and it cites its facts.
      expect(checkSchema(JSON.parse(JSON.stringify(profile)), FIRMWARE_PROFILE_SCHEMA)).toEqual([]);
      expect(profile.sources.length).toBeGreaterThan(0);
      const driver = registry.driverFor(profile.vendor);
      const p = phoneFor(profile);
      const layout = keyLayout(p, profile, { hotdeskMenu: p.hotdesk });
      expect(layout.filter((k) => k.area !== 'soft').length).toBeLessThanOrEqual(keyCapacity(profile));
      expect(layout.filter((k) => k.area === 'soft').length).toBeLessThanOrEqual(profile.softKeys);

      const states: Array<[string, User | null, number]> = [
        ['logged-out', null, 1],
        ['logged-in', USER_101, 2],
        ['identity-switched', USER_102, 3],
        ['logged-out-again', null, 4],
      ];
      const bodies = new Map<string, string>();
      for (const [state, user, revision] of states) {
        const inp: RenderInput = input(p, user, revision);
        const files = renderAllPhoneFiles(driver, inp);
        expect(files.map((f) => f.name)).toEqual([...driver.fileNames(inp)]);
        for (const f of files) {
          if (profile.vendor === 'yealink') expect(f.body.startsWith('#!version:1.0.0.1\n'), `${state} ${f.name}`).toBe(true);
          else expect(XMLValidator.validate(f.body), `${state} ${f.name}`).toBe(true);
          if (!f.secret) for (const s of SECRETS) expect(f.body, `${state} ${f.name} holds ${s}`).not.toContain(s);
        }
        const secret = secretFileOf(files);
        bodies.set(state, secret.body);
        assertEveryKeyWritten(profile, secret.body);
        const line = hotdeskLineSlot(profile, { loggedIn: user !== null, hasDeviceAccount: false });
        if (line !== null) assertHotdeskLine(profile, secret.body, line, p.mac);
        else expect(secret.body, `${state}: no hot-desk line`).not.toContain(LINE_PASSWORD);
        if (user === null) {
          assertAccountsCleared(profile, secret.body, false, line ?? 0);
          for (const s of ['alice-sip-pw', 'bob-sip-pw']) expect(secret.body).not.toContain(s);
        } else {
          expect(secret.body).toContain(user.sip.password);
          const other = user === USER_101 ? 'bob-sip-pw' : 'alice-sip-pw';
          expect(secret.body, `${state} keeps the previous user's password`).not.toContain(other);
        }
      }
      // Logging out again gives the same file as the first logout (only the revision differs).
      const strip = (b: string | undefined): string => (b ?? '').replace(/revision \d+/g, 'revision N');
      expect(strip(bodies.get('logged-out-again'))).toBe(strip(bodies.get('logged-out')));
    });

    it(`${profile.vendor} ${profile.model}: escaping holds`, () => {
      const driver = registry.driverFor(profile.vendor);
      const p = phoneFor(profile);
      if (profile.vendor === 'yealink') {
        const evil = { ...USER_101, sip: { ...USER_101.sip, displayName: 'A\nstatic.auto_provision.server.url = http://evil' } };
        expect(() => renderAllPhoneFiles(driver, input(p, evil))).toThrow(expect.objectContaining({ code: 'unsafe-value' }) as Error);
      } else {
        const name = `A&B <C> "D" 'E'`;
        const files = renderAllPhoneFiles(driver, input(p, { ...USER_101, sip: { ...USER_101.sip, displayName: name } }));
        const body = secretFileOf(files).body;
        expect(XMLValidator.validate(body)).toBe(true);
        expect(body).toContain('A&amp;B &lt;C&gt; &quot;D&quot; &apos;E&apos;');
        expect(body).not.toContain(name);
      }
    });
  }
});
