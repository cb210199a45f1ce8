import { describe, expect, it } from 'vitest';
import { dataDir, parseCommand, SERVICE_DATA_DIR, type Io } from '../../agent/cli/cli-kit.js';

const io = (env: Record<string, string>): Io => ({ out() {}, err() {}, env, cwd: '/home/it' });
const parse = (...argv: string[]) => parseCommand(argv, { service: { type: 'boolean' } });

describe('data directory resolution', () => {
  it('is ./data interactively, /var/lib/hotdesk or $STATE_DIRECTORY as a service, --data and HOTDESK_DATA always win', () => {
    expect(dataDir(parse(), io({}))).toBe('/home/it/data');
    expect(dataDir(parse('--service'), io({}))).toBe(SERVICE_DATA_DIR);
    expect(dataDir(parse(), io({ INVOCATION_ID: 'a1b2' }))).toBe('/var/lib/hotdesk');
    expect(dataDir(parse(), io({ INVOCATION_ID: 'a1b2', STATE_DIRECTORY: '/var/lib/hotdesk2:/var/lib/other' }))).toBe('/var/lib/hotdesk2');
    expect(dataDir(parse('--service'), io({ HOTDESK_DATA: '/srv/hd' }))).toBe('/srv/hd');
    expect(dataDir(parse('--service', '--data', 'here'), io({ HOTDESK_DATA: '/srv/hd' }))).toBe('/home/it/here');
  });
});
