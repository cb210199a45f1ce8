/**
 * The files phones ask for before their own, requested with no MAC anywhere
 * (no User-Agent over HTTP, and TFTP, which has none): Yealink
 * `y000000000000.boot` / `y000000000000.cfg` / `y0000000000NN.cfg`, Poly
 * `000000000000.cfg`, Snom `snom<MODEL>.htm`. Fetched with curl and the
 * tftp-hpa client from the full running agent: byte-identical over both,
 * no secret and no per-phone token, they lead the phone to its own files,
 * and they neither enrol a phone nor record an address.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/agent-harness.js';
import { curl, killChildren, removeTempDirs, secretsIn, tempDir, tftpHpaGet, written } from './provisioning-kit.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  killChildren();
  while (cleanups.length) await cleanups.pop()?.();
  removeTempDirs();
});

async function harness(): Promise<{ h: Harness; port: number; dir: string }> {
  const h = await startHarness({ tftpPort: 0 });
  cleanups.push(() => h.stop());
  if (h.agent.tftpPort === null) throw new Error('TFTP did not start');
  return { h, port: h.agent.tftpPort, dir: tempDir('hotdesk-common-') };
}

interface PhoneJson {
  mac: string;
  lastIp: string | null;
}

/** What each MAC-less file must say to lead the phone to its own files. */
const FILES: Array<{ file: string; leads: RegExp[] }> = [
  { file: 'y000000000000.boot', leads: [/^#!version:1\.0\.0\.1\n/, /^include:config "y000000000000\.cfg"$/m, /^include:config "\$MAC\.cfg"$/m] },
  {
    file: 'y000000000000.cfg',
    leads: [/^#!version:1\.0\.0\.1\n/, /^static\.auto_provision\.server\.url = http:\/\/127\.0\.0\.1:\d+\/$/m, /^sip\.notify_reboot_enable = 0$/m],
  },
  { file: 'y000000000108.cfg', leads: [/^static\.auto_provision\.server\.url = http:\/\/127\.0\.0\.1:\d+\/$/m] },
  { file: 'y000000000078.cfg', leads: [/\(CP920\)/, /^static\.auto_provision\.server\.url = /m] },
  { file: '000000000000.cfg', leads: [/CONFIG_FILES="\[PHONE_MAC_ADDRESS\]-hotdesk\.cfg, \[PHONE_MAC_ADDRESS\]-site\.cfg"/] },
  {
    file: 'snomD785.htm',
    leads: [/<setting_server perm="">http:\/\/127\.0\.0\.1:\d+\/<\/setting_server>/, /<checksync_action perm="">sync<\/checksync_action>/],
  },
];

describe('MAC-less common files', () => {
  it('are served over HTTP (curl, no User-Agent) and TFTP (tftp-hpa) byte-identical, secret-free, leading to the phone files', async () => {
    const { h, port, dir } = await harness();
    const before = (await h.api('GET', '/api/v1/phones')).json as { phones: PhoneJson[] };
    for (const { file, leads } of FILES) {
      const viaHttp = await curl(`${h.base}/${file}`);
      expect(viaHttp.status, file).toBe(200);
      for (const re of leads) expect(viaHttp.text, `${file} ${re}`).toMatch(re);
      expect(secretsIn(viaHttp.text), file).toEqual([]);
      // No per-phone token: no screen or action URL at all.
      expect(viaHttp.text).not.toMatch(/\/xml\/|\/action\//);
      const out = path.join(dir, file);
      await tftpHpaGet(port, file, out);
      expect(written(out)?.equals(viaHttp.body), `${file} over TFTP`).toBe(true);
    }
    // Nobody was enrolled and no address was recorded by these requests.
    const after = (await h.api('GET', '/api/v1/phones')).json as { phones: PhoneJson[] };
    expect(after.phones.map((p) => [p.mac, p.lastIp])).toEqual(before.phones.map((p) => [p.mac, p.lastIp]));
  });

  it('a Poly with its User-Agent (which has no MAC) gets the default master too; names that are no common file stay refused', async () => {
    const { h, port, dir } = await harness();
    const poly = await curl(`${h.base}/000000000000.cfg`, { userAgent: 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.0000 Type/Application' });
    expect(poly.status).toBe(200);
    expect(poly.text).toContain('[PHONE_MAC_ADDRESS]-hotdesk.cfg');
    for (const file of ['y000000000999.cfg', 'snomD999.htm']) {
      const r = await curl(`${h.base}/${file}`);
      expect(r.status, file).toBe(404);
      const out = path.join(dir, `${file}.none`);
      expect((await tftpHpaGet(port, file, out)).out, file).toMatch(/Error code 1/);
      expect(written(out)).toBeNull();
    }
    // Far more than the failure budget (20) of unknown common names: not counted, the agent keeps serving.
    for (let i = 0; i < 25; i++) expect((await curl(`${h.base}/y000000000999.cfg`)).status).toBe(404);
    expect((await curl(`${h.base}/y000000000000.boot`)).status).toBe(200);
  });
});
