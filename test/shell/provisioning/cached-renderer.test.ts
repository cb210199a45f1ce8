/**
 * The render step: one render per cache key whoever asks meanwhile, and render-ahead of a phone's own
 * files under the keys its fetches look up. Real SQLite store with the demo office, real drivers; the
 * renderer is in-thread, counted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentUrls } from '../../../agent/shell/provisioning/agent-urls.js';
import { CachedRenderer, cacheKey, type PhoneState } from '../../../agent/shell/provisioning/cached-renderer.js';
import { encodeFile } from '../../../agent/shell/provisioning/chunk-pool.js';
import { cachedBody } from '../../../agent/shell/provisioning/render-cache.js';
import type { AsyncRenderer } from '../../../agent/shell/provisioning/render-pool.js';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import type { Store } from '../../../agent/store/store.js';
import { loadFirmwareProfiles } from '../../../agent/vendors/firmware-profile.js';
import { createDrivers } from '../../../agent/vendors/registry.js';
import { demoStore, POLY, SNOM, YEALINK } from '../../store/helpers.js';

const T0 = 1_700_000_000_000;
const BASE = 'http://10.0.0.1:8080';
const profiles = loadFirmwareProfiles();
const drivers = createDrivers({ profiles });

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await demoStore(T0));
});
afterEach(() => cleanup());

/** An in-thread renderer that counts renders by file name and answers on a later turn (like the pool). */
function counting(): AsyncRenderer & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async render(vendor, input, name) {
      calls.push(name);
      await new Promise((r) => setTimeout(r, 5));
      const file = drivers.find((d) => d.vendor === vendor)?.render(input, name) ?? null;
      return file ? encodeFile(file) : null;
    },
  };
}

function renderer(r: AsyncRenderer): CachedRenderer {
  return new CachedRenderer({
    store: sqliteStore(store),
    drivers,
    profiles,
    renderer: r,
    urls: (phone, token) => agentUrls(BASE, phone, token, profiles.find(phone.vendor, phone.model)?.firmware?.file),
  });
}

function stateOf(mac: string): PhoneState {
  const phone = store.getPhone(mac);
  const runtime = store.provisioningRuntime(mac);
  const profile = phone && profiles.find(phone.vendor, phone.model);
  if (!phone || !runtime || !profile) throw new Error(`no demo phone ${mac}`);
  return { site: store.getSite(), phone, runtime, profile, sip: null };
}

describe('CachedRenderer', () => {
  it('renders one key once while it is being rendered: concurrent asks share the render and the cached file', async () => {
    const r = counting();
    const files = renderer(r);
    const s = stateOf(YEALINK);
    const driver = drivers.find((d) => d.vendor === 'yealink')!;
    const name = `${YEALINK}.cfg`;
    const key = cacheKey(s.phone, s.runtime, null, name);
    const [a, b, c] = await Promise.all([files.render(key, driver, name, s), files.render(key, driver, name, s), files.render(key, driver, name, s)]);
    expect(r.calls).toEqual([name]);
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(files.cached(key)).toBe(a);
    // Once cached, a new ask after the render ended renders again only if the caller skips the cache: the pipeline looks it up first.
    expect(cachedBody(a!).toString()).toContain(`hotdesk revision ${s.runtime.revision}`);
  });

  it.each([
    ['yealink', YEALINK],
    ['snom', SNOM],
    ['poly', POLY],
  ])('renders ahead the %s phone\u2019s own files under the keys its fetches look up, once per revision', async (_vendor, mac) => {
    const r = counting();
    const files = renderer(r);
    const n = await files.renderAhead(mac);
    expect(n).toBeGreaterThan(0);
    expect(r.calls).toHaveLength(n);
    for (const name of r.calls) expect(name.toLowerCase()).toContain(mac);
    const s = stateOf(mac);
    for (const name of r.calls) expect(files.cached(cacheKey(s.phone, s.runtime, null, name.toUpperCase()))).toBeDefined();
    // Nothing new to render until the phone's revision changes.
    expect(await files.renderAhead(mac)).toBe(0);
    store.bumpRevision(mac, T0 + 1_000);
    expect(await files.renderAhead(mac)).toBe(n);
    expect(r.calls).toHaveLength(2 * n);
    // The new revision replaced the old one in the cache: nobody asks for a superseded revision again.
    for (const name of r.calls.slice(0, n)) expect(files.cached(cacheKey(s.phone, s.runtime, null, name))).toBeUndefined();
    expect(files.stats.entries).toBe(n);
    const after = stateOf(mac);
    expect(after.runtime.revision).toBe(s.runtime.revision + 1);
    const secret = r.calls.find((name) => files.cached(cacheKey(after.phone, after.runtime, null, name))?.meta.secret);
    expect(secret).toBeDefined();
  });

  it('renders nothing ahead for a MAC that is not enrolled', async () => {
    const r = counting();
    expect(await renderer(r).renderAhead('001565ffffff')).toBe(0);
    expect(r.calls).toEqual([]);
  });

  it('a fetch arriving while its file is rendered ahead waits for that render', async () => {
    const r = counting();
    const files = renderer(r);
    const ahead = files.renderAhead(YEALINK);
    await new Promise((res) => setTimeout(res, 1));
    const s = stateOf(YEALINK);
    const driver = drivers.find((d) => d.vendor === 'yealink')!;
    const name = r.calls[0]!;
    const fetched = await files.render(cacheKey(s.phone, s.runtime, null, name), driver, name, s);
    await ahead;
    expect(r.calls.filter((c) => c === name)).toHaveLength(1);
    expect(fetched).toBe(files.cached(cacheKey(s.phone, s.runtime, null, name)));
  });
});
