/**
 * The checks of `hotdesk doctor`: each looks at one thing a site needs and
 * says, in plain words, what is wrong and how to fix it. They read the data
 * directory (never write it) and talk to the running agent and the PBX.
 */
import dgram from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Phone, SiteSettings } from '../core/model.js';
import { probeSipOptions } from '../shell/sip/sip-options-probe.js';
import type { StoreData } from '../store/store-api.js';
import { loadFirmwareProfiles } from '../vendors/firmware-profile.js';
import { createDriverRegistry } from '../vendors/registry.js';
import { loadTemplateSources } from '../vendors/template-loader.js';
import { phoneRenderFor } from './render-command.js';

/** One finding. `ok` findings say what was verified. */
export interface Finding {
  readonly check: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
  /** Affected items, one line each (phones, templates). */
  readonly items?: readonly string[];
  readonly fix?: string;
}

/** The agent's `/readyz` body (ops-routes.ts). */
export interface ReadyBody {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
  readonly listeners: Readonly<Record<string, number | null>>;
}

/** Fetches `/readyz`; null when the agent does not answer. */
export async function fetchReady(url: string, timeoutMs = 2_000): Promise<{ status: number; body: ReadyBody } | null> {
  try {
    const res = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: (await res.json()) as ReadyBody };
  } catch {
    return null;
  }
}

/** The agent answering and ready. */
export function agentFinding(url: string, ready: { status: number; body: ReadyBody } | null): Finding {
  if (ready === null) {
    return {
      check: 'agent',
      status: 'fail',
      message: `the agent does not answer at ${url}`,
      fix: "start it ('systemctl start hotdesk'; why it stopped: 'journalctl -u hotdesk'), or give its address with --url",
    };
  }
  if (ready.status !== 200) {
    const bad = Object.entries(ready.body.checks ?? {})
      .filter(([, v]) => v !== 'ok')
      .map(([k, v]) => `${k}: ${v}`);
    return {
      check: 'agent',
      status: 'fail',
      message: `the agent at ${url} answers but is not ready`,
      items: bad,
      fix: "read 'journalctl -u hotdesk' for the failing part",
    };
  }
  return { check: 'agent', status: 'ok', message: `the agent answers at ${url} and is ready` };
}

function tftpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('message', () => finish(true)); // any answer (an ERROR for this name) proves a TFTP server
    const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from('hotdesk-doctor-probe\0octet\0', 'latin1')]);
    sock.send(rrq, port, host, (e) => e && finish(false));
  });
}

/** Each bound listener reached from the LAN address (what a phone does). */
export async function listenerFindings(lan: string, listeners: Readonly<Record<string, number | null>>, secure: boolean): Promise<Finding[]> {
  const out: Finding[] = [];
  const http = listeners['http'];
  if (typeof http === 'number') {
    const url = `${secure ? 'https' : 'http'}://${lan}:${http}/healthz`;
    let ok = false;
    try {
      ok = (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      ok = false;
    }
    out.push(
      ok
        ? { check: 'http-port', status: 'ok', message: `HTTP port ${http} is reachable at the LAN address ${lan}` }
        : {
            check: 'http-port',
            status: 'fail',
            message: `HTTP port ${http} is not reachable at the LAN address ${lan}: phones cannot fetch their files`,
            fix: `serve on every interface (--host 0.0.0.0) or on ${lan}, and open TCP ${http} in the firewall (docs/service.md)`,
          },
    );
  }
  const tftp = listeners['tftp'];
  if (typeof tftp === 'number') {
    const ok = await tftpAnswers(lan, tftp, 2_000);
    out.push(
      ok
        ? { check: 'tftp-port', status: 'ok', message: `TFTP port ${tftp} answers at the LAN address ${lan}` }
        : {
            check: 'tftp-port',
            status: 'fail',
            message: `TFTP port ${tftp} does not answer at the LAN address ${lan}`,
            fix: `serve on every interface or on ${lan}, and open UDP ${tftp} in the firewall (docs/service.md)`,
          },
    );
  }
  return out;
}

/** The PBX registrar answers SIP OPTIONS; and the clock against its `Date`. */
export async function pbxFindings(site: SiteSettings, now: () => number, timeoutMs: number): Promise<Finding[]> {
  const { host, port, transport } = site.pbx;
  const where = `${host}:${port}/${transport}`;
  if (transport !== 'udp') {
    return [
      {
        check: 'pbx',
        status: 'warn',
        message: `the PBX registrar ${where} was not probed: doctor sends SIP OPTIONS over UDP only`,
        fix: 'check the registrar with the PBX tools (e.g. sngrep, or sipp -sn uac against it)',
      },
    ];
  }
  const r = await probeSipOptions({ host, port, timeoutMs });
  if (r.kind === 'refused') {
    return [
      {
        check: 'pbx',
        status: 'fail',
        message: `nothing listens at the PBX registrar ${where}: the port is closed (ICMP port unreachable)`,
        fix: 'start the PBX, or correct site.pbx (host, port) in the directory file and import it',
      },
    ];
  }
  if (r.kind === 'timeout') {
    return [
      {
        check: 'pbx',
        status: 'fail',
        message: `the PBX registrar ${where} does not answer SIP OPTIONS within ${Math.round(r.waitedMs / 100) / 10} s`,
        fix: 'check that the PBX runs and that a firewall lets UDP through to it; correct site.pbx in the directory file if it moved',
      },
    ];
  }
  if (r.kind === 'error')
    return [
      {
        check: 'pbx',
        status: 'fail',
        message: `cannot probe the PBX registrar ${where}: ${r.message}`,
        fix: 'check site.pbx.host (a resolvable address) in the directory file',
      },
    ];
  const out: Finding[] = [
    {
      check: 'pbx',
      status: 'ok',
      message: `the PBX registrar ${where} answers SIP OPTIONS (${r.status} ${r.reason}, ${Math.round(r.rttMs)} ms)${r.server ? `: ${r.server}` : ''}`,
    },
  ];
  const theirs = r.date !== undefined ? Date.parse(r.date) : NaN;
  if (Number.isNaN(theirs)) out.push({ check: 'clock', status: 'ok', message: 'the PBX sent no Date header: clock skew not measured' });
  else {
    const skew = Math.round((now() - theirs) / 1000);
    out.push(
      Math.abs(skew) > 5
        ? {
            check: 'clock',
            status: 'warn',
            message: `this machine's clock is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} the PBX`,
            fix: 'synchronise both with NTP (timedatectl set-ntp true); daily logout and audit times depend on it',
          }
        : { check: 'clock', status: 'ok', message: `the clock agrees with the PBX (${skew} s)` },
    );
  }
  return out;
}

/** Phones that never fetched a file, pending re-syncs that take long, unreachable phones. */
export async function phoneFindings(store: StoreData, provisioningUrl: string, now: number, pendingGraceMs = 120_000): Promise<Finding[]> {
  const never: string[] = [];
  const stuck: string[] = [];
  for (const phone of await store.listPhones()) {
    const rt = await store.phoneRuntime(phone.mac);
    if (!rt) continue;
    const name = `${phone.mac} (${phone.label}, ${phone.vendor} ${phone.model})`;
    if (rt.lastSeen === null) {
      never.push(`${name}: DHCP option ${phone.vendor === 'poly' ? '160' : '66'} = ${provisioningUrl}`);
      continue;
    }
    const s = rt.sync;
    if (s.state === 'unreachable' || (s.state === 'pending' && s.requestedAt !== null && now - s.requestedAt > pendingGraceMs)) {
      stuck.push(
        `${name}: ${s.state} since ${new Date(s.requestedAt ?? now).toISOString()}, revision ${s.revision}, ${s.attempts} NOTIFY sent; ${s.state === 'unreachable' ? 'gave up; ' : ''}${await lastSyncError(store, phone, rt.lastIp)}`,
      );
    }
  }
  const out: Finding[] = [];
  out.push(
    never.length === 0
      ? { check: 'phones-seen', status: 'ok', message: 'every phone has fetched its files at least once' }
      : {
          check: 'phones-seen',
          status: 'warn',
          message: `${never.length} phone(s) never fetched a file since they were imported`,
          items: never,
          fix: 'plug them in and give them the provisioning URL by DHCP (option 66 for Yealink and Snom, 160 for Poly) or SIP PnP (--pnp)',
        },
  );
  out.push(
    stuck.length === 0
      ? { check: 'phones-sync', status: 'ok', message: 'no phone is waiting long for its new files' }
      : {
          check: 'phones-sync',
          status: 'fail',
          message: `${stuck.length} phone(s) have not fetched their new files`,
          items: stuck,
          fix: "power-cycle the phone or check it is on the network; 'hotdesk audit --phone MAC' shows every attempt",
        },
  );
  return out;
}

async function lastSyncError(store: StoreData, phone: Phone, lastIp: string | null): Promise<string> {
  const [e] = await store.queryAudit({ phone: phone.mac, kinds: ['sync-sent'], limit: 1 });
  if (!e) return lastIp === null ? 'its address is unknown (it never fetched a file)' : 'no check-sync NOTIFY was sent to it';
  const status = e.detail?.['status'];
  if (status === 'timeout') return `last check-sync NOTIFY to ${lastIp ?? '?'} got no answer (phone off, wrong address, or a firewall)`;
  if (typeof status === 'number' && (status < 200 || status >= 300))
    return `the phone refused the check-sync NOTIFY with SIP ${status} (check its SIP notify settings)`;
  if (e.detail?.['via'] === 'http') return `the HTTP re-sync fallback ${e.detail['ok'] === true ? 'was accepted' : 'failed'} but no fetch followed`;
  return 'the phone accepted the NOTIFY but has not fetched the file (check its provisioning URL and credentials)';
}

/** Site template overrides that no longer render for the phones they apply to. */
export async function templateFindings(store: StoreData, dataDir: string, base: string, phonesPerModel = 3): Promise<Finding[]> {
  const root = join(dataDir, 'templates');
  const overrides = listTemplates(root).map((f) => relative(root, f));
  if (overrides.length === 0) return [{ check: 'templates', status: 'ok', message: 'no site template overrides' }];
  const profiles = loadFirmwareProfiles();
  let registry: ReturnType<typeof createDriverRegistry>;
  try {
    registry = createDriverRegistry({ profiles, sources: loadTemplateSources({ siteDir: root }) });
  } catch (e) {
    return [
      {
        check: 'templates',
        status: 'fail',
        message: 'site template overrides do not load',
        items: [e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)],
        fix: `fix or delete the override under ${root}, then restart the agent`,
      },
    ];
  }
  const broken = new Map<string, string>();
  const tried = new Map<string, number>();
  for (const phone of await store.listPhones()) {
    const key = `${phone.vendor}/${phone.model}`;
    if (!overrides.some((o) => o.startsWith(`${phone.vendor}/`))) continue;
    if ((tried.get(key) ?? 0) >= phonesPerModel) continue;
    tried.set(key, (tried.get(key) ?? 0) + 1);
    const profile = profiles.find(phone.vendor, phone.model);
    if (!profile) continue;
    try {
      const { driver, input } = await phoneRenderFor(store, phone, profile, registry.driverFor(phone.vendor), base);
      for (const name of driver.fileNames(input)) {
        try {
          driver.render(input, name);
        } catch (e) {
          broken.set(`${key} ${name}`, `${name} for ${phone.mac}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        }
      }
    } catch (e) {
      broken.set(key, `${phone.mac}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  if (broken.size === 0)
    return [{ check: 'templates', status: 'ok', message: `${overrides.length} site template override(s) render for the phones they apply to` }];
  return [
    {
      check: 'templates',
      status: 'fail',
      message: `site template overrides no longer render (${overrides.join(', ')})`,
      items: [...broken.values()],
      fix: `'hotdesk render --phone MAC --file NAME' shows the error; fix the override under ${root} or delete it to fall back to the shipped template, then restart the agent`,
    },
  ];
}

function listTemplates(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTemplates(p));
    else if (e.isFile() && e.name.endsWith('.liquid')) out.push(p);
  }
  return out.sort();
}

/** The provisioning URL phones need (site base URL, else the agent's LAN address). */
export function provisioningUrl(site: SiteSettings, lan: string, httpPort: number): string {
  return `${(site.provisioning.baseUrl ?? `http://${lan}:${httpPort}`).replace(/\/+$/, '')}/`;
}
