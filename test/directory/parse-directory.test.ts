import { describe, expect, test } from 'vitest';
import { HotdeskError } from '../../agent/core/errors.js';
import type { DirectoryErrorEntry } from '../../agent/directory/directory-types.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { demoText } from '../store/helpers.js';

function errorsOf(text: string): { code: string; errors: DirectoryErrorEntry[]; message: string } {
  try {
    parseDirectory(text, 'bad.yaml');
  } catch (e) {
    if (!(e instanceof HotdeskError)) throw e;
    return { code: e.code, errors: e.detail['errors'] as DirectoryErrorEntry[], message: e.message };
  }
  throw new Error('expected the directory to be refused');
}

/** Line (1-based) of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string, from = 0): number {
  const i = text.indexOf(needle, from);
  if (i < 0) throw new Error(`needle not found: ${needle}`);
  return text.slice(0, i).split('\n').length;
}

const MINI = `site:
  name: Mini
  pbx: { host: pbx.example }
  provisioning:
    bootstrap: { username: boot, password: "boot-pass" }
users:
  - ext: "101"
    name: Ann
    pin: "4321"
    sip: { password: "pw-101" }
phones:
  - mac: "00:15:65:AA:BB:01"
    vendor: yealink
    model: t46u
    identities: ["101"]
`;

describe('parseDirectory: valid files', () => {
  test('the demo file parses to the documented users and phones', () => {
    const d = parseDirectory(demoText(), 'demo.yaml');
    expect(d.users.map((u) => [u.ext, u.pin])).toEqual([
      ['001', '1234'],
      ['101', '4321'],
      ['102', '8765'],
      ['200', '2000'],
    ]);
    expect(d.phones.map((p) => [p.mac, p.vendor, p.model, p.hotdesk, p.identities])).toEqual([
      ['001565aabb01', 'yealink', 'T46U', true, ['101', '102']],
      ['000413aabb02', 'snom', 'D785', true, ['101', '102']],
      ['0004f2aabb03', 'poly', 'VVX450', true, ['101', '102']],
      ['001565aabb09', 'yealink', 'T31G', false, []],
    ]);
    expect(d.site).toMatchObject({
      timezone: 'Europe/Berlin',
      pbx: { host: '127.0.0.1', port: 5060, transport: 'udp' },
      featurePrefix: '*35',
      provisioning: { bootstrap: { username: 'bootstrap', password: 'hotdesk-demo' }, autoEnrol: true },
      apiTokens: ['demo-token'],
    });
    expect(d.users[1]?.sip.outboundCallerId).not.toBe(d.users[2]?.sip.outboundCallerId);
  });

  test('defaults fill the optional fields; MAC and model are normalised', () => {
    const d = parseDirectory(MINI, 'mini.yaml');
    expect(d.phones[0]).toEqual({ mac: '001565aabb01', vendor: 'yealink', model: 'T46U', label: '001565aabb01', hotdesk: true, identities: ['101'], keys: [] });
    expect(d.users[0]).toEqual({
      ext: '101',
      name: 'Ann',
      pin: '4321',
      hotdesk: true,
      sip: { user: '101', authName: '101', password: 'pw-101', displayName: 'Ann' },
    });
    expect(d.site).toMatchObject({
      timezone: 'UTC',
      featurePrefix: '*35',
      policies: { identitySwitch: 'direct', multipleLogin: 'move' },
      sessions: {},
      apiTokens: [],
    });
  });
});

describe('parseDirectory: bad files give file:line errors', () => {
  test('YAML syntax error', () => {
    const text = `${MINI}  - mac: [oops\n`;
    const r = errorsOf(text);
    expect(r.code).toBe('yaml-syntax');
    expect(r.errors[0]).toMatchObject({ file: 'bad.yaml', code: 'yaml-syntax' });
    expect(r.errors[0]?.line).toBeGreaterThanOrEqual(16);
    expect(r.message).toMatch(/^the directory file is not valid YAML/);
  });

  test('duplicate keys in one mapping are a syntax error', () => {
    expect(errorsOf(MINI.replace('  name: Mini\n', '  name: Mini\n  name: Again\n')).code).toBe('yaml-syntax');
  });

  test('unknown model names the line and the known models', () => {
    const text = MINI.replace('model: t46u', 'model: T99X');
    const r = errorsOf(text);
    expect(r.code).toBe('unknown-model');
    expect(r.errors).toEqual([expect.objectContaining({ line: lineOf(text, 'model: T99X'), column: 12, path: 'phones[0].model', code: 'unknown-model' })]);
    expect(r.errors[0]?.message).toMatch(/T46U/);
    expect(r.message).toContain(`bad.yaml:${lineOf(text, 'model: T99X')}:12: phones[0].model: no firmware profile for yealink T99X`);
  });

  test('duplicate MAC (in another notation) points at the second one', () => {
    const text = `${MINI}  - mac: "001565aabb01"\n    vendor: yealink\n    model: T46U\n`;
    const r = errorsOf(text);
    expect(r.code).toBe('directory-invalid');
    expect(r.errors).toEqual([expect.objectContaining({ line: lineOf(text, 'mac: "001565aabb01"'), path: 'phones[1].mac' })]);
    expect(r.errors[0]?.message).toMatch(/listed twice.*phones\[0\]\.mac/);
  });

  test('numeric short number: quote it', () => {
    const text = MINI.replace('ext: "101"', 'ext: 001').replace('identities: ["101"]', 'identities: []');
    const r = errorsOf(text);
    expect(r.errors).toEqual([expect.objectContaining({ line: lineOf(text, 'ext: 001'), column: 10, path: 'users[0].ext' })]);
    expect(r.errors[0]?.message).toContain('quote it: "001"');
  });

  test('too many keys for the model', () => {
    const text = MINI.replace('model: t46u', 'model: T31G').replace(
      'identities: ["101"]',
      'identities: ["101"]\n    keys:\n      - { kind: speed, label: A, value: "1" }\n      - { kind: speed, label: B, value: "2" }',
    );
    const r = errorsOf(text);
    expect(r.code).toBe('too-many-keys');
    expect(r.errors).toEqual([expect.objectContaining({ line: lineOf(text, 'mac: "00:15'), path: 'phones[0]', code: 'too-many-keys' })]);
    expect(r.errors[0]?.message).toMatch(/001565aabb01 \(T31G\) needs \d+ keys but has 2/);
  });

  test('many problems at once, each with its line; secrets never echoed', () => {
    const text = `site:
  name: X
  timezone: Mars/Olympus
  pbx: { host: pbx, port: 70000, transport: sctp }
  featurePrefix: "*3a"
  policies: { multipleLogin: sometimes }
  sessions: { dailyLogoutTime: "25:00" }
  provisioning:
    bootstrap: { username: boot, password: 12345678 }
    allowedNetworks: ["10.0.0.0/33"]
    baseUrl: "ftp://x"
  apiTokens: ["short"]
  colour: blue
users:
  - ext: "1a"
    name: A
    pin: 98
    sip: { password: "p" }
  - ext: "102"
    name: B
    pin: "55555"
    hotdesk: false
    sip: { password: "p" }
  - ext: "103"
    name: C
    sip: { password: "p" }
  - ext: "102"
    name: D
    sip: { password: "p" }
phones:
  - mac: "zz"
    vendor: yealink
    model: T46U
  - mac: "001565000001"
    vendor: cisco
    model: "7960"
  - mac: "001565000002"
    vendor: yealink
    model: T46U
    hotdesk: false
    identities: ["102", "103", "104", "104"]
    keys:
      - { kind: url, label: Web, value: "gopher://x" }
      - { kind: identity, label: Z, value: "999" }
      - { kind: teleport, label: Q, value: "1", line: 40 }
`;
    const r = errorsOf(text);
    expect(r.code).toBe('directory-invalid');
    const at = (path: string): DirectoryErrorEntry | undefined => r.errors.find((e) => e.path === path);
    const expectAt = (path: string, needle: string, message: RegExp): void => {
      expect(at(path), path).toMatchObject({ line: lineOf(text, needle), message: expect.stringMatching(message) });
    };
    expectAt('site.timezone', 'Mars/Olympus', /time zone/);
    expectAt('site.pbx.port', 'port: 70000', /between 1 and 65535/);
    expectAt('site.pbx.transport', 'sctp', /udp, tcp, tls/);
    expectAt('site.featurePrefix', '"*3a"', /keypad/);
    expectAt('site.policies.multipleLogin', 'sometimes', /move, refuse, allow/);
    expectAt('site.sessions.dailyLogoutTime', '25:00', /HH:MM/);
    expectAt('site.provisioning.bootstrap.password', '12345678', /put it in double quotes/);
    expectAt('site.provisioning.allowedNetworks[0]', '10.0.0.0/33', /network/);
    expectAt('site.provisioning.baseUrl', 'ftp://x', /http/);
    expectAt('site.apiTokens[0]', '"short"', /at least 8/);
    expectAt('site.colour', 'colour: blue', /unknown field "colour"/);
    expectAt('users[0].ext', '"1a"', /digits/);
    expectAt('users[0].pin', 'pin: 98', /put it in double quotes/);
    expectAt('users[3].ext', 'ext: "102"\n    name: D', /listed twice/);
    expectAt('phones[0].mac', '"zz"', /MAC/);
    expectAt('phones[1].vendor', 'cisco', /yealink, snom, poly/);
    expectAt('phones[2].identities[0]', '["102"', /hot-desking off|hotdesk: true/);
    expectAt('phones[2].identities[1]', '["102"', /no PIN/);
    expectAt('phones[2].identities[2]', '["102"', /no user/);
    expectAt('phones[2].identities[3]', '["102"', /twice/);
    expectAt('phones[2].keys[0].value', 'gopher', /URL/);
    expectAt('phones[2].keys[1]', '{ kind: identity', /no user/);
    expectAt('phones[2].keys[2].kind', 'teleport', /speed, blf/);
    expectAt('phones[2].keys[2].line', 'line: 40', /between 1 and 16/);
    for (const e of r.errors) {
      expect(e.file).toBe('bad.yaml');
      expect(e.message).not.toContain('12345678');
      expect(e.message).not.toMatch(/\b98\b/);
    }
    expect(r.message).not.toContain('12345678');
  });

  test('an unquoted * prefix (YAML alias) and line breaks in values are refused', () => {
    const alias = MINI.replace('  name: Mini\n', '  name: Mini\n  featurePrefix: *35\n');
    const r = errorsOf(alias);
    expect(r.errors.some((e) => /alias/.test(e.message))).toBe(true);
    const nl = MINI.replace('name: Ann', 'name: "Ann\\nreg.1.address = evil"');
    expect(errorsOf(nl).errors).toEqual([expect.objectContaining({ path: 'users[0].name', message: expect.stringMatching(/line breaks/) })]);
  });

  test('an empty file and a missing site are refused', () => {
    expect(errorsOf('').errors[0]?.message).toMatch(/empty/);
    expect(errorsOf('users: []\n').errors).toEqual([expect.objectContaining({ path: 'site', message: 'is required' })]);
  });
});
