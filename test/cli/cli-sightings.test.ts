/**
 * `hotdesk sightings`: list, accept (enrols the phone), dismiss, and clear
 * errors for a missing sighting, an unknown model and a bad action; through
 * the built CLI on a real SQLite store.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../agent/store/store.js';
import { DEMO, ensureBuilt, runCli, tempDir, type CliResult } from './cli-harness.js';

let tmp: string;
let data: string;
const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--data', data], { cwd: tmp });

beforeAll(async () => {
  ensureBuilt();
  tmp = tempDir();
  data = join(tmp, 'data');
  expect((await runCli(['import', DEMO, '--data', data])).code).toBe(0);
  const store = openStore(data);
  try {
    store.recordSighting({ mac: '001565c0de01', ip: '10.0.0.7', vendor: 'yealink', model: 'SIP-T46U', at: 1_000, via: 'pnp' });
    store.recordSighting({ mac: '000413c0de02', ip: '10.0.0.8', vendor: 'snom', model: 'snomD999', at: 2_000, via: 'pnp' });
    store.recordSighting({ mac: '0004f2c0de03', ip: '10.0.0.9', vendor: 'poly', model: 'VVX450', at: 3_000, via: 'tftp' });
  } finally {
    store.close();
  }
}, 200_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('hotdesk sightings', () => {
  it('lists sightings with the profiled model they map to', async () => {
    const r = await cli('sightings', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { mac: string; knownModel: string | null; via: string }[];
    expect(rows.map((x) => [x.mac, x.knownModel, x.via])).toEqual([
      ['0004f2c0de03', 'VVX450', 'tftp'],
      ['000413c0de02', null, 'pnp'],
      ['001565c0de01', 'T46U', 'pnp'],
    ]);
    const table = await cli('sightings');
    expect(table.stdout).toMatch(/001565c0de01\s+yealink\s+SIP-T46U\s+T46U\s+10\.0\.0\.7\s+pnp/);
  });

  it('accept enrols the phone and removes the sighting; an unknown model is refused with the code', async () => {
    const ok = await cli('sightings', 'accept', '00:15:65:C0:DE:01');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('accepted 001565c0de01 (yealink T46U)');
    const phones = JSON.parse((await cli('phones', '--json')).stdout) as { mac: string; model: string }[];
    expect(phones.find((p) => p.mac === '001565c0de01')?.model).toBe('T46U');
    const bad = await cli('sightings', 'accept', '000413c0de02', '--json');
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('unknown-model');
    const gone = await cli('sightings', 'accept', '001565c0de01');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('no sighting');
  });

  it('dismiss forgets a sighting; bad actions are usage errors (exit 2)', async () => {
    expect((await cli('sightings', 'dismiss', '0004f2c0de03')).code).toBe(0);
    expect((await cli('sightings', 'dismiss', '0004f2c0de03')).code).toBe(1);
    expect((await cli('sightings', 'frobnicate', '0004f2c0de03')).code).toBe(2);
    expect((await cli('sightings', 'accept')).code).toBe(2);
    const rows = JSON.parse((await cli('sightings', '--json')).stdout) as { mac: string }[];
    expect(rows.map((x) => x.mac)).toEqual(['000413c0de02']);
  });
});
