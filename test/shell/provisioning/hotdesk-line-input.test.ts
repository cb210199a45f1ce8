/**
 * The shell side of the hot-desk line: the provisioning pipeline and `hotdesk render` give each
 * hot-desk phone's files its line with the agent's SIP address (host of the provisioning base URL,
 * the bound SIP port); a new SIP address changes the served file without a revision bump (render
 * cache key); the line's password never travels in a file served over TFTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { phoneRenderFor } from '../../../agent/cli/render-command.js';
import { agentUrls } from '../../../agent/shell/provisioning/agent-urls.js';
import {
  advertisedSip,
  DEFAULT_AGENT_SIP_PORT,
  hotdeskLineInput,
  sipHostOf,
  type SipAdvertised,
} from '../../../agent/shell/provisioning/hotdesk-line-input.js';
import { ProvisioningPipeline, type AuthCheck, type FileRequest } from '../../../agent/shell/provisioning/provisioning-pipeline.js';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import type { Store } from '../../../agent/store/store.js';
import { loadFirmwareProfiles } from '../../../agent/vendors/firmware-profile.js';
import { createDriverRegistry, createDrivers } from '../../../agent/vendors/registry.js';
import { loadTemplateSources } from '../../../agent/vendors/template-loader.js';
import { demoStore, LIFT, POLY, SNOM, YEALINK } from '../../store/helpers.js';

const T0 = 1_700_000_000_000;
const BASE = 'http://10.0.0.1:8080';
const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:01';
const profiles = loadFirmwareProfiles();
const drivers = createDrivers({ profiles });

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await demoStore(T0));
});
afterEach(() => cleanup());

function pipeline(sip: () => SipAdvertised | null, allowTftpSecrets = false): ProvisioningPipeline {
  if (allowTftpSecrets) {
    const site = store.getSite();
    store.putSite({ ...site, provisioning: { ...site.provisioning, allowTftpSecrets: true } }, T0);
  }
  return new ProvisioningPipeline({
    store: sqliteStore(store),
    drivers,
    profiles,
    clock: () => T0,
    sipAdvertised: sip,
    urls: (phone, token) => agentUrls(BASE, phone, token, profiles.find(phone.vendor, phone.model)?.firmware?.file),
  });
}

/** The phone's own credential, presented. */
function own(mac: string): AuthCheck {
  const rt = store.phoneRuntime(mac);
  return (accepted) => {
    const ok = accepted.find((a) => a.username === rt?.provUsername && a.password === rt?.provPassword);
    return ok ? { status: 'ok', kind: ok.kind } : { status: 'bad' };
  };
}

function http(path: string, mac: string, ua?: string): FileRequest {
  return { protocol: 'http', path, remoteAddress: '10.0.0.21', authenticate: own(mac), ...(ua ? { userAgent: ua } : {}) };
}

describe('helpers', () => {
  it('take the host of the base URL and only give a line to a hot-desk phone with a SIP address', async () => {
    expect(sipHostOf('http://10.0.0.5:8080')).toBe('10.0.0.5');
    expect(sipHostOf('https://agent.example.net/')).toBe('agent.example.net');
    expect(sipHostOf('http://[fd00::5]:8080')).toBe('[fd00::5]');
    expect(advertisedSip('', 5070)).toBeNull();
    expect(advertisedSip('http://10.0.0.5:8080', 0)).toBeNull();
    expect(advertisedSip('http://10.0.0.5:8080', 5070)).toEqual({ host: '10.0.0.5', port: 5070 });
    const line = { username: 'hd-x', password: 'p' };
    const sip = { host: '10.0.0.5', port: 5070 };
    expect(hotdeskLineInput(line, { hotdesk: true }, sip)).toEqual({ username: 'hd-x', password: 'p', host: '10.0.0.5', port: 5070, transport: 'udp' });
    expect(hotdeskLineInput(line, { hotdesk: false }, sip)).toBeNull();
    expect(hotdeskLineInput(undefined, { hotdesk: true }, sip)).toBeNull();
    expect(hotdeskLineInput(line, { hotdesk: true }, null)).toBeNull();
  });
});

describe('the provisioning pipeline', () => {
  it('serves the line with the agent SIP address, and a new address re-renders without a revision bump', async () => {
    let sip: SipAdvertised | null = { host: '10.0.0.1', port: 5070 };
    const p = pipeline(() => sip);
    const line = store.getHotdeskLine(YEALINK);
    if (!line) throw new Error('no line');
    const first = (await p.serve(http(`/${YEALINK}.cfg`, YEALINK, YEALINK_UA))).body.toString();
    expect(first).toContain(`account.16.user_name = ${line.username}\n`);
    expect(first).toContain(`account.16.password = ${line.password}\n`);
    expect(first).toContain('account.16.sip_server.1.address = 10.0.0.1\naccount.16.sip_server.1.port = 5070\n');
    const revision = store.phoneRuntime(YEALINK)?.revision;
    sip = { host: '10.0.0.1', port: 5080 };
    const moved = (await p.serve(http(`/${YEALINK}.cfg`, YEALINK, YEALINK_UA))).body.toString();
    expect(moved).toContain('account.16.sip_server.1.port = 5080\n');
    expect(store.phoneRuntime(YEALINK)?.revision).toBe(revision);
    sip = null;
    const none = (await p.serve(http(`/${YEALINK}.cfg`, YEALINK, YEALINK_UA))).body.toString();
    expect(none).not.toContain(line.password);
    expect(none).toContain('account.16.enable = 0\n');
  });

  it('gives every vendor its line, and the lift (no hot-desking) none', async () => {
    const p = pipeline(() => ({ host: '10.0.0.1', port: 5070 }));
    const snom = (await p.serve(http('/snomD785-000413AABB02.htm', SNOM))).body.toString();
    expect(snom).toContain(`<user_pass idx="12" perm="">${store.getHotdeskLine(SNOM)?.password}</user_pass>`);
    const poly = (await p.serve(http(`/${POLY}-hotdesk.cfg`, POLY))).body.toString();
    expect(poly).toContain(`reg.12.auth.password="${store.getHotdeskLine(POLY)?.password}"`);
    const lift = (await p.serve(http(`/${LIFT}.cfg`, LIFT, 'Yealink SIP-T31G 124.86.0.40 00:15:65:aa:bb:09'))).body.toString();
    expect(lift).toContain('account.2.enable = 0\n');
    expect(lift).toContain('dialplan.digitmap.enable = 0\n');
  });

  it('never sends a line password over TFTP: non-secret files lack it, the secret file is refused', async () => {
    const p = pipeline(() => ({ host: '10.0.0.1', port: 5070 }));
    const password = store.getHotdeskLine(YEALINK)?.password ?? 'missing';
    for (const name of [`${YEALINK}.boot`, 'y000000000108.cfg', 'y000000000000.boot']) {
      const served = await p.serve({ protocol: 'tftp', path: name, remoteAddress: '10.0.0.21' });
      expect(served.file.secret, name).toBe(false);
      expect(served.body.toString(), name).not.toContain(password);
    }
    let err: unknown;
    try {
      await p.serve({ protocol: 'tftp', path: `${YEALINK}.cfg`, remoteAddress: '10.0.0.21' });
    } catch (e) {
      err = e;
    }
    expect(isHotdeskError(err, 'secret-over-tftp')).toBe(true);
  });
});

describe('hotdesk render', () => {
  it('uses the host of the base URL and --sip-port, else network.sipPort, else the default', async () => {
    const registry = createDriverRegistry({ profiles, sources: loadTemplateSources() });
    const phone = store.getPhone(YEALINK);
    const profile = profiles.find('yealink', 'T46U');
    if (!phone || !profile) throw new Error('demo phone missing');
    const render = async (sipPort?: number) =>
      (await phoneRenderFor(sqliteStore(store), phone, profile, registry.driverFor('yealink'), 'http://192.0.2.7:8080', sipPort)).input.hotdeskLine;
    expect(await render(5090)).toMatchObject({ host: '192.0.2.7', port: 5090, username: `hd-${YEALINK}` });
    expect((await render())?.port).toBe(DEFAULT_AGENT_SIP_PORT);
    const site = store.getSite();
    store.putSite({ ...site, network: { sipPort: 5099 } }, T0);
    expect((await render())?.port).toBe(5099);
  });
});
