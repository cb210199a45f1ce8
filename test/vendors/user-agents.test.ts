/**
 * The User-Agent corpus (test/vendors/fixtures/user-agents.json: real strings
 * of all three vendors, many models and firmware generations, each with its
 * published source) is identified completely by the drivers: vendor, model,
 * firmware and, where the string carries one, the MAC. Models without a
 * firmware profile are still identified. Where the model is profiled and the
 * profile lists firmware families, the firmware starts with one of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Vendor } from '../../agent/core/model.js';
import { profiles, registry } from './fixtures.js';

interface Entry {
  readonly ua: string;
  readonly path: string;
  readonly vendor: Vendor;
  readonly model: string;
  readonly firmware: string;
  readonly mac?: string;
  readonly source: string;
}

const corpus = (JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'user-agents.json'), 'utf8')) as { userAgents: Entry[] }).userAgents;

describe('User-Agent corpus', () => {
  it('holds at least 40 cited strings of all three vendors', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    for (const v of ['yealink', 'snom', 'poly']) expect(corpus.filter((e) => e.vendor === v).length, v).toBeGreaterThanOrEqual(5);
    for (const e of corpus) expect(e.source.length, e.ua).toBeGreaterThan(10);
    expect(new Set(corpus.map((e) => e.ua)).size).toBe(corpus.length);
  });

  for (const e of corpus) {
    it(`${e.vendor}: ${e.ua}`, () => {
      const ids = registry.allDrivers.map((d) => d.identify(e.path, e.ua)).filter((x) => x !== null);
      expect(ids.length, 'exactly one driver claims it').toBe(1);
      const id = ids[0];
      expect(id?.vendor).toBe(e.vendor);
      expect(id?.model).toBe(e.model);
      expect(id?.firmware).toBe(e.firmware);
      expect(id?.macFromUserAgent).toBe(e.mac);
      const profile = profiles.find(e.vendor, e.model);
      if (profile?.firmwareFamilies) {
        expect(
          profile.firmwareFamilies.map((f) => f.prefix),
          `${e.model} firmware ${e.firmware}`,
        ).toContain(e.firmware.split('.')[0]);
      }
    });
  }
});
