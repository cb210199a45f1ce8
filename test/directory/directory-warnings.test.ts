import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { directoryWarnings } from '../../agent/directory/directory-warnings.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';

const demo = readFileSync(new URL('../../examples/demo.yaml', import.meta.url), 'utf8');

describe('directory warnings', () => {
  it('names the hot-desk phones without a device account (emergency calls go through the PBX redirect)', () => {
    const dir = parseDirectory(demo, 'demo.yaml');
    const bare = dir.phones.filter((p) => p.hotdesk && !p.deviceAccount).map((p) => p.mac);
    expect(bare.length).toBeGreaterThan(0);
    const w = directoryWarnings(dir);
    expect(w).toHaveLength(1);
    expect(w[0]?.code).toBe('emergency-via-pbx');
    expect(w[0]?.phones).toEqual(bare);
    expect(w[0]?.message).toContain('112');
  });

  it('says nothing when every hot-desk phone has a device account', () => {
    const dir = parseDirectory(demo, 'demo.yaml');
    const account = { user: 'dev1', authName: 'dev1', password: 'secret-1', displayName: 'Desk' };
    const phones = dir.phones.map((p) => ({ ...p, deviceAccount: account }));
    expect(directoryWarnings({ ...dir, phones })).toEqual([]);
  });
});
