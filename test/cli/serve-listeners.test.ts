import { describe, expect, it } from 'vitest';
import { resolveListeners } from '../../agent/cli/serve-command.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { isHotdeskError } from '../../agent/core/errors.js';

const none = { noTftp: false, pnp: false };

describe('hotdesk serve listeners: flags over site.network over defaults', () => {
  it('uses the defaults when neither says anything', () => {
    expect(resolveListeners(none, undefined)).toEqual({ host: '0.0.0.0', httpPort: 8080, tftpPort: 6969, sipPort: 5070, pnpPort: null });
  });
  it('takes the site network block, and flags win over it', () => {
    const net = { host: '10.0.0.5', httpPort: 80, tftpPort: 69, sipPort: 5080, pnpPort: 5060 };
    expect(resolveListeners(none, net)).toEqual({ host: '10.0.0.5', httpPort: 80, tftpPort: 69, sipPort: 5080, pnpPort: 5060 });
    expect(resolveListeners({ ...none, httpPort: 8081, host: '127.0.0.1' }, net)).toMatchObject({ host: '127.0.0.1', httpPort: 8081, tftpPort: 69 });
    expect(resolveListeners({ ...none, noTftp: true }, net).tftpPort).toBeNull();
    expect(resolveListeners(none, { tftpPort: 0 }).tftpPort).toBeNull();
    expect(resolveListeners({ ...none, pnp: true }, undefined).pnpPort).toBe(5060);
    expect(resolveListeners({ ...none, pnpPort: 5062 }, net).pnpPort).toBe(5062);
  });
});

describe('site.network in the directory file', () => {
  const base = (network: string): string => `site:
  name: T
  pbx: { host: 127.0.0.1 }
  provisioning: { bootstrap: { username: boot, password: boot-secret-1 } }
${network}
users: []
phones: []
`;
  it('is read when valid', () => {
    const d = parseDirectory(base('  network: { host: "10.0.0.5", httpPort: 80, tftpPort: 69, pnpPort: 5060 }'), 't.yaml');
    expect(d.site.network).toEqual({ host: '10.0.0.5', httpPort: 80, tftpPort: 69, pnpPort: 5060 });
  });
  it('refuses a bad port or host with the line number', () => {
    try {
      parseDirectory(base('  network:\n    httpPort: 70000\n    host: "not an ip"'), 't.yaml');
      expect.unreachable();
    } catch (e) {
      expect(isHotdeskError(e)).toBe(true);
      const errors = (e as { detail: { errors: { line: number; path: string }[] } }).detail.errors;
      expect(errors.map((x) => x.line).sort()).toEqual([6, 7]);
    }
  });
});
