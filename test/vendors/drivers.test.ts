import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { VENDORS, type Vendor } from '../../agent/core/model.js';
import type { PhoneFile, RenderInput } from '../../agent/vendors/driver.js';
import { renderAllPhoneFiles, renderPhoneFile } from '../../agent/vendors/render.js';
import { DEVICE_ACCOUNT, input, phone, profiles, registry, USER_101, USER_102 } from './fixtures.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

const STATES: Record<string, (v: Vendor) => RenderInput> = {
  'logged-out': (v) => input(phone(v), null, 6),
  'logged-out-device-account': (v) => input(phone(v, undefined, { deviceAccount: DEVICE_ACCOUNT }), null, 6),
  'logged-in': (v) => input(phone(v), USER_101, 7),
  'identity-switched': (v) => input(phone(v), USER_102, 8),
};

/** Parses Yealink `key = value` output; throws on a malformed line. */
function parseKeyValue(body: string): Map<string, string> {
  const lines = body.split('\n');
  expect(lines[0]).toBe('#!version:1.0.0.1');
  const out = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (line.startsWith('include:config ')) continue;
    const m = /^([a-z0-9_.]+) = (.*)$/i.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`not key = value: ${line}`);
    expect(out.has(m[1]), `duplicate key ${m[1]}`).toBe(false);
    out.set(m[1], m[2]);
  }
  return out;
}

function assertWellFormed(f: PhoneFile, vendor: Vendor): void {
  if (vendor === 'yealink') parseKeyValue(f.body);
  else expect(XMLValidator.validate(f.body), f.name).toBe(true);
}

/** Attribute/element map of a Poly or Snom file, for slot assertions. */
function xml(body: string): unknown {
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseAttributeValue: false, parseTagValue: false }).parse(body);
}

describe('golden files', () => {
  for (const vendor of VENDORS) {
    for (const [state, make] of Object.entries(STATES)) {
      it(`${vendor} ${state}`, () => {
        const files = renderAllPhoneFiles(registry.driverFor(vendor), make(vendor));
        const dir = join(GOLDEN, vendor, state);
        if (UPDATE) {
          mkdirSync(dir, { recursive: true });
          for (const f of files) writeFileSync(join(dir, f.name), f.body);
        }
        expect(existsSync(dir), `${dir} missing: run with UPDATE_GOLDEN=1`).toBe(true);
        expect(readdirSync(dir).sort()).toEqual(files.map((f) => f.name).sort());
        for (const f of files) {
          expect(f.body, `${vendor}/${state}/${f.name}`).toBe(readFileSync(join(dir, f.name), 'utf8'));
          assertWellFormed(f, vendor);
        }
      });
    }
  }
});

describe('file properties', () => {
  for (const vendor of VENDORS) {
    it(`${vendor}: exactly one file carries secrets and the revision; others hold no secret`, () => {
      const inp = input(phone(vendor), USER_101, 42);
      const files = renderAllPhoneFiles(registry.driverFor(vendor), inp);
      const secret = files.filter((f) => f.secret);
      expect(secret.length).toBe(1);
      expect(files.filter((f) => f.carriesRevision)).toEqual(secret);
      expect(secret[0]?.body).toMatch(vendor === 'yealink' ? /^# hotdesk revision 42$/m : /<!-- hotdesk revision 42 -->/);
      for (const f of files.filter((x) => !x.secret)) {
        for (const s of ['alice-sip-pw', 'phone-prov-pw', '1234', '5678', 'tok123']) expect(f.body, `${f.name} holds ${s}`).not.toContain(s);
      }
    });

    it(`${vendor}: output is deterministic and render matches names case-insensitively`, () => {
      const d = registry.driverFor(vendor);
      const a = renderAllPhoneFiles(d, input(phone(vendor), USER_101));
      const b = renderAllPhoneFiles(d, input(phone(vendor), USER_101));
      expect(a).toEqual(b);
      const first = a.find((f) => f.secret);
      expect(first).toBeDefined();
      if (first) expect(d.render(input(phone(vendor), USER_101), first.name.toUpperCase())?.name).toBe(first.name);
      expect(d.render(input(phone(vendor), USER_101), 'nothing.cfg')).toBeNull();
      expect(() => renderPhoneFile(d, input(phone(vendor), USER_101), 'nothing.cfg')).toThrow(/not a file of phone/);
    });
  }

  it('check-sync events', () => {
    expect(registry.driverFor('yealink').checkSyncEvent).toBe('check-sync');
    expect(registry.driverFor('snom').checkSyncEvent).toBe('check-sync;reboot=false');
    expect(registry.driverFor('poly').checkSyncEvent).toBe('check-sync');
    expect(registry.allDrivers.map((d) => d.vendor)).toEqual(['yealink', 'snom', 'poly']);
  });
});

/** The account-carrying file of a phone. */
function secretFile(inp: RenderInput): PhoneFile {
  const files = renderAllPhoneFiles(registry.driverFor(inp.phone.vendor), inp);
  const f = files.find((x) => x.secret);
  if (!f) throw new Error('no secret file');
  return f;
}

describe('logged out clears every account slot of every profiled model (a phone without hot-desking: no hot-desk line)', () => {
  for (const profile of profiles.all()) {
    it(`${profile.vendor} ${profile.model} (${profile.accounts} slots)`, () => {
      const p = phone(profile.vendor, profile.model, { identities: [], keys: [], hotdesk: false });
      const f = secretFile(input(p, null));
      if (profile.vendor === 'yealink') {
        const kv = parseKeyValue(f.body);
        for (let n = 1; n <= profile.accounts; n += 1) {
          expect(kv.get(`account.${n}.enable`), `account ${n}`).toBe('0');
          for (const k of ['user_name', 'auth_name', 'password', 'display_name', 'sip_server.1.address'])
            expect(kv.get(`account.${n}.${k}`), `account.${n}.${k}`).toBe('%NULL%');
        }
        expect(kv.has(`account.${profile.accounts + 1}.enable`)).toBe(false);
      } else if (profile.vendor === 'snom') {
        for (let n = 1; n <= profile.accounts; n += 1) {
          expect(f.body).toContain(`<user_active idx="${n}" perm="">off</user_active>`);
          for (const k of ['user_name', 'user_pname', 'user_pass', 'user_realname', 'user_host']) expect(f.body).toContain(`<${k} idx="${n}" perm=""></${k}>`);
        }
        expect(f.body).not.toContain(`idx="${profile.accounts + 1}" perm="">off`);
      } else {
        for (let n = 1; n <= profile.accounts; n += 1) {
          for (const k of ['address', 'auth.userId', 'auth.password', 'displayName', 'server.1.address']) expect(f.body).toContain(`reg.${n}.${k}=""`);
          expect(f.body).toContain(`reg.${n}.server.1.register="0"`);
        }
        expect(f.body).not.toContain(`reg.${profile.accounts + 1}.`);
      }
    });
  }

  it('a device account takes line 1, the hot-desk line the last slot, and every other slot stays cleared', () => {
    const inp = input(phone('yealink', 'T46U', { deviceAccount: DEVICE_ACCOUNT }), null);
    const kv = parseKeyValue(secretFile(inp).body);
    expect(kv.get('account.1.enable')).toBe('1');
    expect(kv.get('account.1.user_name')).toBe('dev-lobby');
    for (let n = 2; n <= 15; n += 1) expect(kv.get(`account.${n}.enable`)).toBe('0');
    expect(kv.get('account.16.enable')).toBe('1');
    expect(kv.get('account.16.user_name')).toBe('hd-001565aabb01');
  });
});

describe('logged-in content', () => {
  it('Yealink: account 1, identity keys, Hot desk key, menu key, cleared keys, re-sync and provisioning settings', () => {
    const inp = input(phone('yealink'), USER_101);
    const kv = parseKeyValue(secretFile(inp).body);
    expect(kv.get('account.1.user_name')).toBe('101');
    expect(kv.get('account.1.password')).toBe('alice-sip-pw');
    expect(kv.get('account.1.sip_server.1.address')).toBe('pbx.example.test');
    expect(kv.get('account.1.sip_server.1.transport_type')).toBe('0');
    expect(kv.get('voice_mail.number.1')).toBe('*97');
    expect(kv.get('linekey.2.type')).toBe('13');
    expect(kv.get('linekey.2.value')).toBe('*35*101*1234');
    expect(kv.get('linekey.2.label')).toBe('Alice');
    expect(kv.get('linekey.4.type')).toBe('13');
    expect(kv.get('linekey.4.value')).toBe('*35');
    expect(kv.get('linekey.4.label')).toBe('Hot desk');
    expect(kv.get('linekey.5.type')).toBe('27');
    expect(kv.get('linekey.5.value')).toBe('http://10.0.0.5:8080/xml/001565aabb01/tok123');
    expect(kv.get('linekey.5.label')).toBe('Hot desk menu');
    expect(kv.get('linekey.27.type')).toBe('0');
    expect(kv.get('expansion_module.3.key.60.value')).toBe('%NULL%');
    expect(kv.get('static.auto_provision.server.username')).toBe('hd-001565aabb01');
    // the action URL carries the phone's token: only in the phone's own (secret) file
    expect(kv.get('action_url.outgoing_call')).toBe('http://10.0.0.5:8080/action/001565aabb01/tok123/outgoing?mac=$mac&remote=$remote');
    const common = renderPhoneFile(registry.driverFor('yealink'), inp, 'y000000000108.cfg');
    const ckv = parseKeyValue(common.body);
    expect(ckv.get('sip.notify_reboot_enable')).toBe('0');
    expect(ckv.get('static.auto_provision.repeat.minutes')).toBe('60');
    expect(ckv.has('action_url.outgoing_call')).toBe(false);
    expect(ckv.has('static.firmware.url')).toBe(false);
  });

  it('Yealink: firmware URL when the shell gives one', () => {
    const base = input(phone('yealink'), USER_101);
    const inp: RenderInput = { ...base, urls: { ...base.urls, firmware: 'http://10.0.0.5:8080/fw/T46U.rom' } };
    expect(parseKeyValue(renderPhoneFile(registry.driverFor('yealink'), inp, 'y000000000108.cfg').body).get('static.firmware.url')).toBe(
      'http://10.0.0.5:8080/fw/T46U.rom',
    );
  });

  it('Snom: firmware settings file when the shell gives a firmware URL', () => {
    const base = input(phone('snom'), USER_101);
    const inp: RenderInput = { ...base, urls: { ...base.urls, firmware: 'http://10.0.0.5:8080/fw/D785.bin' } };
    const d = registry.driverFor('snom');
    expect(d.fileNames(inp)).toContain('snomD785-firmware.xml');
    const fw = renderPhoneFile(d, inp, 'snomD785-firmware.xml');
    expect(XMLValidator.validate(fw.body)).toBe(true);
    expect(fw.body).toContain('<firmware perm="">http://10.0.0.5:8080/fw/D785.bin</firmware>');
    expect(renderPhoneFile(d, inp, 'snomD785.htm').body).toContain('<firmware_status perm="">http://10.0.0.5:8080/snomD785-firmware.xml</firmware_status>');
  });

  it('Poly: EFK identity keys on line keys, menu soft key, device.prov with .set', () => {
    const body = secretFile(input(phone('poly'), USER_101)).body;
    const doc = xml(body) as { polycomConfig: Record<string, unknown> };
    expect(doc.polycomConfig).toBeDefined();
    expect(body).toContain('lineKey.2.category="EFK" lineKey.2.index="1"');
    expect(body).toContain('efk.efklist.1.action.string="*35*101*1234$Tinvite$"');
    expect(body).toContain('lineKey.4.category="EFK" lineKey.4.index="3"');
    expect(body).toContain('efk.efklist.3.action.string="*35$Tinvite$"');
    expect(body).toContain('lineKey.5.category="BLF" lineKey.5.index="1"');
    expect(body).toContain('softkey.1.action="http://10.0.0.5:8080/xml/0004f2aabb03/tok123"');
    expect(body).toContain('device.prov.password="phone-prov-pw" device.prov.password.set="1"');
  });
});

describe('injection', () => {
  const evil = { ...USER_101, sip: { ...USER_101.sip, displayName: 'Alice\r\nstatic.auto_provision.server.url = http://evil' } };

  it('Yealink refuses CR/LF in a display name (unsafe-value), without leaking the value', () => {
    let err: unknown;
    try {
      secretFile(input(phone('yealink'), evil));
    } catch (e) {
      err = e;
    }
    expect(isHotdeskError(err, 'unsafe-value')).toBe(true);
    expect((err as Error).message).not.toContain('evil');
  });

  it('Yealink refuses CR/LF in a key label', () => {
    const p = phone('yealink', 'T46U', { keys: [{ kind: 'speed', label: 'x\ny', value: '1' }] });
    expect(() => secretFile(input(p, USER_101))).toThrow(expect.objectContaining({ code: 'unsafe-value' }) as Error);
  });

  for (const vendor of ['snom', 'poly'] as const) {
    it(`${vendor} XML-escapes & < > " ' in names and labels`, () => {
      const name = `A&B <C> "D" 'E'`;
      const u = { ...USER_101, sip: { ...USER_101.sip, displayName: name } };
      const p = phone(vendor, undefined, { keys: [{ kind: 'speed', label: name, value: '200' }] });
      const f = secretFile(input(p, u));
      expect(XMLValidator.validate(f.body)).toBe(true);
      expect(f.body).toContain('A&amp;B &lt;C&gt; &quot;D&quot; &apos;E&apos;');
      expect(f.body).not.toContain(name);
    });
  }
});

describe('createDrivers', () => {
  it('loads shipped templates and profiles and returns the three drivers', async () => {
    const { createDrivers } = await import('../../agent/vendors/registry.js');
    const drivers = createDrivers();
    expect(drivers.map((d) => d.vendor)).toEqual(['yealink', 'snom', 'poly']);
    const inp = input(phone('snom'), USER_101);
    expect(drivers[1]?.render(inp, 'snomD785-000413922D24.htm')?.body).toBe(secretFile(inp).body);
  });
});
