/**
 * The hot-desk line in every vendor's files (docs/vendors.md "The hot-desk line"): slot H
 * carries the line's credentials and the agent's SIP address in the phone's own secret file,
 * logged out and logged in; identity keys and the "Hot desk" key use it where the vendor lets
 * a key choose its account; the Yealink digit map sends typed feature codes to it and
 * emergency numbers to account 1; G.711 and RFC 4733 DTMF are set; no other file holds a
 * line credential; single-account models carry it only while their slot is otherwise empty.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_VOICE_SETTINGS, VENDORS, type SiteSettings, type Vendor } from '../../agent/core/model.js';
import type { PhoneFile, RenderInput } from '../../agent/vendors/driver.js';
import { hotdeskLineSlot, yealinkDigitMap } from '../../agent/vendors/hotdesk-line.js';
import { prepare } from '../../agent/vendors/driver-kit.js';
import { renderAllPhoneFiles } from '../../agent/vendors/render.js';
import { DEVICE_ACCOUNT, input, LINE_PASSWORD, phone, profileOf, registry, SITE, USER_101 } from './fixtures.js';

function files(inp: RenderInput): readonly PhoneFile[] {
  return renderAllPhoneFiles(registry.driverFor(inp.phone.vendor), inp);
}

function secretBody(inp: RenderInput): string {
  const f = files(inp).find((x) => x.secret);
  if (!f) throw new Error('no secret file');
  return f.body;
}

/** `key = value` lines of a Yealink file. */
function kv(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of body.split('\n')) {
    const m = /^([a-z0-9_.]+) = (.*)$/i.exec(line);
    if (m?.[1] && m[2] !== undefined) out.set(m[1], m[2]);
  }
  return out;
}

const H: Record<Vendor, number> = { yealink: 16, snom: 12, poly: 12 };

describe('slot H', () => {
  it('is the last account slot; a single-slot model carries the line only while its slot is otherwise empty', () => {
    expect(hotdeskLineSlot(profileOf('yealink', 'T46U'), { loggedIn: true, hasDeviceAccount: true })).toBe(16);
    expect(hotdeskLineSlot(profileOf('yealink', 'T31G'), { loggedIn: false, hasDeviceAccount: false })).toBe(2);
    const t30 = profileOf('yealink', 'T30');
    expect(t30.accounts).toBe(1);
    expect(hotdeskLineSlot(t30, { loggedIn: false, hasDeviceAccount: false })).toBe(1);
    expect(hotdeskLineSlot(t30, { loggedIn: true, hasDeviceAccount: false })).toBeNull();
    expect(hotdeskLineSlot(t30, { loggedIn: false, hasDeviceAccount: true })).toBeNull();
  });

  it('is listed among the account slots with source hotdesk, and keys bound to it say so', () => {
    const { context } = prepare(input(phone('yealink'), USER_101), { udp: 0, tcp: 1, tls: 2 }, {});
    expect(context.accounts.map((a) => a.source)).toEqual(['user', ...Array<string>(14).fill('none'), 'hotdesk']);
    expect(context.accounts[15]).toMatchObject({ index: 16, user: 'hd-001565aabb01', password: LINE_PASSWORD, host: '10.0.0.5', port: 5070, mwi: false });
    expect(context.hotdeskLine).toMatchObject({
      index: 16,
      label: 'Hot desk',
      hostPort: '10.0.0.5:5070',
      dtmfPayload: 101,
      codecList: 'pcmu,pcma,telephone-event',
    });
    const bound = context.keys.filter((k) => k.onHotdeskLine).map((k) => [k.role, k.value]);
    expect(bound).toEqual([
      ['identity', '*35*101*1234'],
      ['identity', '*35*102*5678'],
      ['hotdesk', '*35'],
    ]);
  });
});

describe('every vendor, logged out and logged in', () => {
  for (const vendor of VENDORS) {
    for (const user of [null, USER_101]) {
      const state = user ? 'logged in' : 'logged out';
      it(`${vendor} ${state}: line H in the secret file, nowhere else`, () => {
        const inp = input(phone(vendor), user);
        const all = files(inp);
        const body = secretBody(inp);
        const h = H[vendor];
        const name = `hd-${inp.phone.mac}`;
        if (vendor === 'yealink') {
          const k = kv(body);
          expect(k.get(`account.${h}.enable`)).toBe('1');
          expect(k.get(`account.${h}.label`)).toBe('Hot desk');
          expect(k.get(`account.${h}.user_name`)).toBe(name);
          expect(k.get(`account.${h}.auth_name`)).toBe(name);
          expect(k.get(`account.${h}.password`)).toBe(LINE_PASSWORD);
          expect(k.get(`account.${h}.sip_server.1.address`)).toBe('10.0.0.5');
          expect(k.get(`account.${h}.sip_server.1.port`)).toBe('5070');
          expect(k.get(`account.${h}.sip_server.1.transport_type`)).toBe('0');
          expect(k.get(`account.${h}.subscribe_mwi`)).toBe('0');
          expect(k.get(`account.${h}.codec.pcmu.enable`)).toBe('1');
          expect(k.get(`account.${h}.codec.pcma.enable`)).toBe('1');
          expect(k.get(`account.${h}.dtmf.type`)).toBe('1');
          expect(k.get(`account.${h}.dtmf.dtmf_payload`)).toBe('101');
          // identity keys and the Hot desk key dial over line H; the menu and IT's keys stay on line 1
          expect([2, 3, 4].map((n) => [k.get(`linekey.${n}.value`), k.get(`linekey.${n}.line`)])).toEqual([
            ['*35*101*1234', '16'],
            ['*35*102*5678', '16'],
            ['*35', '16'],
          ]);
          expect(k.get('linekey.4.label')).toBe('Hot desk');
          expect(k.get('linekey.5.line')).toBe('1');
          expect(k.get('dialplan.digitmap.enable')).toBe('1');
          const map = k.get('dialplan.digitmap.string') ?? '';
          expect(map).toContain('*35T<A16>|*35*[x*].T<A16>');
          // emergency numbers go to account 1 only when it carries a PBX account
          if (user) expect(map.startsWith('112T<A1>|911T<A1>|999T<A1>|')).toBe(true);
          else expect(map).not.toContain('<A1>');
          expect(map.endsWith('|[x*#+].T')).toBe(true);
          // no line key of its own (the site did not ask): no type-15 key on line 16
          for (let n = 1; n <= 27; n += 1) if (k.get(`linekey.${n}.type`) === '15') expect(k.get(`linekey.${n}.line`)).not.toBe('16');
        } else if (vendor === 'snom') {
          expect(body).toContain(`<user_active idx="${h}" perm="">on</user_active>`);
          expect(body).toContain(`<user_name idx="${h}" perm="">${name}</user_name>`);
          expect(body).toContain(`<user_pname idx="${h}" perm="">${name}</user_pname>`);
          expect(body).toContain(`<user_pass idx="${h}" perm="">${LINE_PASSWORD}</user_pass>`);
          expect(body).toContain(`<user_host idx="${h}" perm="">10.0.0.5:5070</user_host>`);
          expect(body).toContain(`<user_outbound idx="${h}" perm="">10.0.0.5:5070;transport=udp</user_outbound>`);
          expect(body).toContain(`<user_idle_text idx="${h}" perm="">Hot desk</user_idle_text>`);
          expect(body).toContain(`<codec_priority_list idx="${h}" perm="">pcmu,pcma,telephone-event</codec_priority_list>`);
          expect(body).toContain(`<user_dtmf_info idx="${h}" perm="">off</user_dtmf_info>`);
          expect(body).toContain(`<fkey idx="1" context="${h}" label="Alice" perm="">speed *35*101*1234</fkey>`);
          expect(body).toContain(`<fkey idx="2" context="${h}" label="Bob" perm="">speed *35*102*5678</fkey>`);
          expect(body).toContain(`<fkey idx="3" context="${h}" label="Hot desk" perm="">speed *35</fkey>`);
          expect(body).toContain('<fkey idx="5" context="active" label="Reception" perm="">blf 100</fkey>');
          expect(body).not.toContain('user_dp_str');
        } else {
          expect(body).toContain(`reg.${h}.address="${name}" reg.${h}.label="Hot desk"`);
          expect(body).toContain(`reg.${h}.auth.userId="${name}" reg.${h}.auth.password="${LINE_PASSWORD}"`);
          expect(body).toContain(`reg.${h}.server.1.address="10.0.0.5" reg.${h}.server.1.port="5070" reg.${h}.server.1.transport="UDPOnly"`);
          expect(body).toContain(`msg.mwi.${h}.subscribe="" msg.mwi.${h}.callBackMode="disabled"`);
          expect(body).toContain('tone.dtmf.viaRtp="1" tone.dtmf.rfc2833Control="1" tone.dtmf.rfc2833Payload="101"');
          // an EFK cannot choose a registration: the Hot desk key is an EFK like the identity keys
          expect(body).toContain('efk.efklist.3.label="Hot desk" efk.efklist.3.action.string="*35$Tinvite$"');
          expect(body).not.toContain(`lineKey.4.category="Line" lineKey.4.index="${h}"`);
        }
        for (const f of all.filter((x) => !x.secret)) {
          expect(f.body, f.name).not.toContain(LINE_PASSWORD);
          expect(f.body, f.name).not.toContain(name);
        }
      });
    }
  }

  it('MAC-less common files hold no line credential', () => {
    const common: Array<[Vendor, string]> = [
      ['yealink', 'y000000000000.boot'],
      ['yealink', 'y000000000000.cfg'],
      ['yealink', 'y000000000108.cfg'],
      ['snom', 'snomD785.htm'],
      ['poly', '000000000000.cfg'],
    ];
    for (const [vendor, name] of common) {
      const f = registry.driverFor(vendor).renderCommon(name, { site: SITE, provisioning: 'http://10.0.0.5:8080' });
      expect(f, name).not.toBeNull();
      expect(f?.secret).toBe(false);
      expect(f?.body).not.toContain(LINE_PASSWORD);
      expect(f?.body).not.toMatch(/hd-[0-9a-f]{12}/);
    }
  });
});

describe('what changes the line', () => {
  it('a phone that is not hot-desk has no line, and the Yealink digit map is off', () => {
    for (const vendor of VENDORS) {
      const inp = input(phone(vendor, undefined, { hotdesk: false, identities: [] }), null, 7, [], inputLine(vendor));
      expect(secretBody(inp)).not.toContain(LINE_PASSWORD);
    }
    const k = kv(secretBody(input(phone('yealink', 'T46U', { hotdesk: false, identities: [] }), null)));
    expect(k.get('dialplan.digitmap.enable')).toBe('0');
    expect(k.get('dialplan.digitmap.string')).toBe('%NULL%');
    expect(k.get('account.16.enable')).toBe('0');
  });

  it('no SIP address to give (null line): no line H, no routing to it', () => {
    const k = kv(secretBody(input(phone('yealink'), null, 7, undefined, null)));
    expect(k.get('account.16.enable')).toBe('0');
    expect(k.get('linekey.2.line')).toBe('1');
    expect(k.get('dialplan.digitmap.enable')).toBe('0');
  });

  it('a device account keeps slot 1 and takes the emergency numbers (Yealink)', () => {
    const k = kv(secretBody(input(phone('yealink', 'T46U', { deviceAccount: DEVICE_ACCOUNT }), null)));
    expect(k.get('account.1.user_name')).toBe('dev-lobby');
    expect(k.get('account.16.user_name')).toBe('hd-001565aabb01');
    expect(k.get('dialplan.digitmap.string')).toBe('112T<A1>|911T<A1>|999T<A1>|*35T<A16>|*35*[x*].T<A16>|[x*#+].T');
  });

  it("the site's emergency numbers and feature prefix shape the digit map", () => {
    const site: SiteSettings = { ...SITE, featurePrefix: '#77', voice: { ...DEFAULT_VOICE_SETTINGS, emergencyNumbers: ['110', '112'] } };
    const k = kv(secretBody({ ...input(phone('yealink'), USER_101), site }));
    expect(k.get('dialplan.digitmap.string')).toBe('110T<A1>|112T<A1>|#77T<A16>|#77*[x*].T<A16>|[x*#+].T');
    expect(k.get('linekey.4.value')).toBe('#77');
    expect(yealinkDigitMap({ prefix: '*35', slot: 2, emergencyNumbers: ['112'], emergencyAccount: false })).toBe('*35T<A2>|*35*[x*].T<A2>|[x*#+].T');
  });

  it('voice.lineKey gives line H a line key of its own on every vendor', () => {
    const site: SiteSettings = { ...SITE, voice: { ...DEFAULT_VOICE_SETTINGS, lineKey: true } };
    const y = kv(secretBody({ ...input(phone('yealink'), USER_101), site }));
    expect([y.get('linekey.2.type'), y.get('linekey.2.line'), y.get('linekey.2.label')]).toEqual(['15', '16', 'Hot desk']);
    expect(secretBody({ ...input(phone('snom'), USER_101), site })).toContain('<fkey idx="1" context="12" label="Hot desk" perm="">line</fkey>');
    expect(secretBody({ ...input(phone('poly'), USER_101), site })).toContain('lineKey.2.category="Line" lineKey.2.index="12"');
  });

  it('a single-account model (T30) carries the line in slot 1 only while logged out without a device account', () => {
    const p = phone('yealink', 'T30', { identities: [], keys: [] });
    const out = kv(secretBody(input(p, null)));
    expect(out.get('account.1.user_name')).toBe('hd-001565aabb01');
    expect(out.get('account.1.sip_server.1.address')).toBe('10.0.0.5');
    expect(out.get('dialplan.digitmap.string')).toBe('*35T<A1>|*35*[x*].T<A1>|[x*#+].T');
    const inside = kv(secretBody(input(p, USER_101)));
    expect(inside.get('account.1.user_name')).toBe('101');
    expect(inside.get('dialplan.digitmap.enable')).toBe('0');
    expect(secretBody(input(p, USER_101))).not.toContain(LINE_PASSWORD);
    const device = secretBody(input({ ...p, deviceAccount: DEVICE_ACCOUNT }, null));
    expect(kv(device).get('account.1.user_name')).toBe('dev-lobby');
    expect(device).not.toContain(LINE_PASSWORD);
  });
});

function inputLine(vendor: Vendor): RenderInput['hotdeskLine'] {
  return { username: `hd-${phone(vendor).mac}`, password: LINE_PASSWORD, host: '10.0.0.5', port: 5070, transport: 'udp' };
}
