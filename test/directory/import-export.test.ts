import { afterEach, describe, expect, test } from 'vitest';
import { HotdeskError } from '../../agent/core/errors.js';
import { exportDirectory } from '../../agent/directory/export-directory.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { SECRET_PLACEHOLDER } from '../../agent/directory/directory-types.js';
import type { StoreApi } from '../../agent/store/store-api.js';
import type { Store } from '../../agent/store/store.js';
import { demoText, LIFT, POLY, SNOM, YEALINK } from '../store/helpers.js';
import { demoFixture } from './directory-fixture.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
async function demo(now = 1000) {
  const d = await demoFixture(now);
  cleanups.push(d.cleanup);
  return d;
}
function revisions(store: Store): Record<string, number> {
  return Object.fromEntries(store.listPhones().map((p) => [p.mac, store.phoneRuntime(p.mac)?.revision ?? -1]));
}
async function snapshot(store: Store, api: StoreApi): Promise<unknown> {
  return {
    yaml: await exportDirectory(api, { withSecrets: true }),
    revisions: revisions(store),
    sessions: store.listSessions(),
    audit: store.queryAudit({ limit: 10_000 }).length,
  };
}
const apply = (api: StoreApi, text: string, now: number) => importDirectory(api, parseDirectory(text, 'x.yaml'), now);

describe('importDirectory', () => {
  test('first import creates everything and audits it', async () => {
    const { store } = await demo();
    expect(store.queryAudit({ kinds: ['import'] })).toEqual([
      expect.objectContaining({
        at: 1000,
        detail: expect.objectContaining({ file: 'demo.yaml', users: 4, phones: 4, usersAdded: 4, phonesAdded: 4, reprovisioned: 0 }),
      }),
    ]);
    expect(revisions(store)).toEqual({ [YEALINK]: 1, [SNOM]: 1, [POLY]: 1, [LIFT]: 1 });
  });

  test('re-importing the same file changes no revision and keeps sessions', async () => {
    const { store, api } = await demo();
    store.startSession({ phoneMac: SNOM, userExt: '101', startedAt: 5 }, true);
    const heard: string[][] = [];
    store.onChange((m) => heard.push([...m]));
    const before = revisions(store);
    const r = await apply(api, demoText(), 2000);
    expect(r).toMatchObject({ usersAdded: 0, usersUpdated: 4, usersRemoved: 0, phonesAdded: 0, phonesRemoved: 0, sessionsEnded: 0, reprovisioned: [] });
    expect(revisions(store)).toEqual(before);
    expect(store.listSessions()).toEqual([{ phoneMac: SNOM, userExt: '101', startedAt: 5 }]);
    expect(heard).toEqual([]);
    expect(store.verifyPin('101', '4321')).toBe(true);
  });

  test('only phones whose rendered inputs change are bumped', async () => {
    const { store, api } = await demo();
    store.startSession({ phoneMac: YEALINK, userExt: '200', startedAt: 5 }, true);
    // 200's password changes: only the phone 200 is logged in on
    let r = await apply(api, demoText().replace('password: sam-secret', 'password: sam-new-secret'), 2000);
    expect(r.reprovisioned).toEqual([YEALINK]);
    expect(store.getUser('200')?.sip.password).toBe('sam-new-secret');
    // 102's PIN changes: every phone carrying the 102 identity key
    r = await apply(api, demoText().replace('pin: "8765"', 'pin: "5678"').replace('password: sam-secret', 'password: sam-new-secret'), 3000);
    expect([...r.reprovisioned].sort()).toEqual([SNOM, POLY, YEALINK].sort());
    expect(store.verifyPin('102', '5678')).toBe(true);
    expect(store.verifyPin('102', '8765')).toBe(false);
    // a site setting phones use: all of them
    r = await apply(
      api,
      demoText().replace('pin: "8765"', 'pin: "5678"').replace('password: sam-secret', 'password: sam-new-secret').replace('port: 5060', 'port: 5070'),
      4000,
    );
    expect(r.reprovisioned).toHaveLength(4);
    // an API token only: none
    r = await apply(
      api,
      demoText()
        .replace('pin: "8765"', 'pin: "5678"')
        .replace('password: sam-secret', 'password: sam-new-secret')
        .replace('port: 5060', 'port: 5070')
        .replace('- demo-token', '- other-token'),
      5000,
    );
    expect(r.reprovisioned).toEqual([]);
    expect(store.getSite().apiTokens).toEqual(['other-token']);
    expect(store.phoneRuntime(YEALINK)?.sync).toMatchObject({ state: 'pending', requestedAt: 4000 });
  });

  test('removing a user or phone ends its sessions (audited, re-provisioned); others keep theirs', async () => {
    const { store, api } = await demo();
    store.startSession({ phoneMac: YEALINK, userExt: '200', startedAt: 5 }, true);
    store.startSession({ phoneMac: SNOM, userExt: '101', startedAt: 6 }, true);
    store.startSession({ phoneMac: POLY, userExt: '001', startedAt: 7 }, true);
    const auto = store.enrolPhone({ mac: '001565ffff01', vendor: 'yealink', model: 'T46U' }, 8);
    const text = demoText()
      .replace(/ {2}- ext: "200"[\s\S]*?password: sam-secret\n/, '')
      .replace(/ {2}- mac: "0004f2aabb03"[\s\S]*?identities: \["101", "102"\]\n/, '');
    const r = await apply(api, text, 2000);
    expect(r).toMatchObject({ usersRemoved: 1, phonesRemoved: 1, sessionsEnded: 2 });
    expect(r.reprovisioned).toEqual([YEALINK]);
    expect(store.getUser('200')).toBeUndefined();
    expect(store.getPhone(POLY)).toBeUndefined();
    expect(store.getPhone(auto.mac)).toBeDefined();
    expect(store.listSessions()).toEqual([{ phoneMac: SNOM, userExt: '101', startedAt: 6 }]);
    expect(store.queryAudit({ kinds: ['logout'] }).map((e) => [e.phone, e.user])).toEqual([
      [YEALINK, '200'],
      [POLY, '001'],
    ]);
  });

  test('switching multipleLogin from allow to move keeps only the newest session of each user', async () => {
    const { store, api } = await demo();
    await apply(api, demoText().replace('multipleLogin: move', 'multipleLogin: allow'), 2000);
    store.startSession({ phoneMac: YEALINK, userExt: '101', startedAt: 5 }, false);
    store.startSession({ phoneMac: SNOM, userExt: '101', startedAt: 9 }, false);
    const r = await apply(api, demoText(), 3000);
    expect(r.sessionsEnded).toBe(1);
    expect(store.listSessions()).toEqual([{ phoneMac: SNOM, userExt: '101', startedAt: 9 }]);
    expect(() => store.startSession({ phoneMac: POLY, userExt: '101', startedAt: 10 }, true)).toThrow(/UNIQUE/);
  });

  test('a bad file changes nothing (full export identical before and after)', async () => {
    const { store, api } = await demo();
    store.startSession({ phoneMac: SNOM, userExt: '101', startedAt: 5 }, true);
    const before = await snapshot(store, api);
    const bad = [
      demoText().replace('model: D785', 'model: D999'),
      demoText().replace('mac: "000413aabb02"', 'mac: "001565aabb01"'),
      demoText().replace('ext: "200"', 'ext: 200'),
      demoText().replace('site:\n', 'site:\n  name: [broken\n'),
      demoText().replace('model: T31G\n    label: Lift\n    hotdesk: false', 'model: T31G\n    label: Lift\n    hotdesk: true\n    identities: ["101", "102"]'),
    ];
    for (const text of bad) {
      expect(() => parseDirectory(text, 'bad.yaml')).toThrow(HotdeskError);
      expect(await snapshot(store, api)).toEqual(before);
    }
    // an error during apply (placeholder with nothing stored) rolls everything back too
    const withNewUser = demoText().replace(
      'users:\n',
      `users:\n  - ext: "555"\n    name: New\n    pin: "${SECRET_PLACEHOLDER}"\n    sip: { password: "x-555" }\n`,
    );
    await expect(apply(api, withNewUser.replace('port: 5060', 'port: 5099'), 9000)).rejects.toThrow(expect.objectContaining({ code: 'directory-invalid' }));
    expect(await snapshot(store, api)).toEqual(before);
  });
});

describe('exportDirectory', () => {
  test('export with secrets re-imports to the same state (no revision bump)', async () => {
    const { store, api } = await demo();
    store.enrolPhone({ mac: '001565ffff01', vendor: 'yealink', model: 'T46U' }, 8);
    const yaml = await exportDirectory(api, { withSecrets: true });
    expect(yaml).toContain('alex-sales-secret');
    expect(yaml).toContain('auto-enrolled');
    expect(yaml).toContain('ext: "001"');
    const before = revisions(store);
    const r = await importDirectory(api, parseDirectory(yaml, 'export.yaml'), 5000);
    expect(r.reprovisioned).toEqual([]);
    expect(revisions(store)).toEqual(before);
    // the listed auto-enrolled phone is a directory phone now: only its comment is gone
    expect(await exportDirectory(api, { withSecrets: true })).toBe(yaml.replace(/ *# auto-enrolled.*\n/, ''));
    expect(store.phoneRuntime('001565ffff01')?.enrolledVia).toBe('directory');
  });

  test('export without secrets hides them; re-importing it keeps the stored secrets', async () => {
    const { store, api } = await demo();
    const yaml = await exportDirectory(api, { withSecrets: false });
    for (const s of ['hotdesk-demo', 'demo-token', 'alex-sales-secret', 'lift-secret', '"4321"', '"1234"']) expect(yaml).not.toContain(s);
    expect(yaml).toContain(SECRET_PLACEHOLDER);
    const before = await exportDirectory(api, { withSecrets: true });
    const r = await importDirectory(api, parseDirectory(yaml, 'export.yaml'), 5000);
    expect(r.reprovisioned).toEqual([]);
    expect(await exportDirectory(api, { withSecrets: true })).toBe(before);
    expect(store.verifyPin('001', '1234')).toBe(true);
  });
});
