import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFirmwareProfiles } from '../../agent/vendors/firmware-profile.js';
import { profilesTable, withProfilesTable } from '../../agent/vendors/profiles-table.js';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'firmware-profiles.md');

describe('docs/firmware-profiles.md supported-models table', () => {
  it('is up to date with the merged profiles (run node scripts/profiles-table.mjs after a build)', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(withProfilesTable(doc, loadFirmwareProfiles().all())).toBe(doc);
  });

  it('has one row per profile of every vendor with keys, modules, accounts, browser, sources, unverified', () => {
    const all = loadFirmwareProfiles().all();
    const rows = profilesTable(all).split('\n').slice(2);
    expect(rows.length).toBe(all.length);
    const cp920 = rows.find((r) => r.startsWith('| yealink | CP920 |'));
    expect(cp920).toMatch(
      /^\| yealink \| CP920 \| CP \| 0 \| - \| 1 \| yes \| 78\.\{81,84,85,86\} \| y000000000078\.cfg \| .+ \| keyTypes\.url, capabilities\.xmlBrowser \|$/,
    );
    expect(rows.find((r) => r.startsWith('| yealink | T46U |'))).toContain('| 27 | 3 x 60 | 16 | yes |');
    for (const v of ['snom', 'poly']) expect(rows.some((r) => r.startsWith(`| ${v} |`))).toBe(true);
  });
});
