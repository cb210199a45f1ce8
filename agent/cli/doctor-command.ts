/**
 * `hotdesk doctor`: checks a running site and prints what is wrong, in plain
 * words, with the fix (checks in doctor-checks.ts). `--ready` only waits for
 * the agent's `/readyz` (systemd `ExecStartPost`).
 */
import { advertisedAddress } from '../shell/discovery/lan-address.js';
import { redactStoreUrl } from '../store/store-url.js';
import { withStore } from './cli-store.js';
import {
  EXIT,
  JSON_OPTION,
  STORE_HELP,
  STORE_OPTION,
  UsageError,
  dataDir,
  defineCommand,
  optFlag,
  optInt,
  optString,
  printJson,
  storeSetting,
  type Command,
  type Io,
} from './cli-kit.js';
import { agentFinding, fetchReady, listenerFindings, pbxFindings, phoneFindings, provisioningUrl, templateFindings, type Finding } from './doctor-checks.js';

const doctorHelp = `Usage: hotdesk doctor [--url URL] [--lan ADDR] [--json] [--store URL] [--data DIR]
       hotdesk doctor --ready [--url URL] [--timeout S]

Check a running site and say what is wrong and how to fix it:
  - the agent answers and is ready (GET /readyz)
  - its HTTP and TFTP ports are reachable from the LAN address, as phones reach them
  - the PBX registrar (site.pbx) answers SIP OPTIONS, and the clock against its Date
  - phones that never fetched a file since import (with the DHCP option 66/160 value)
  - phones whose new files are not fetched: pending for long or unreachable, and why
  - site template overrides (<data>/templates) that no longer render

Options:
  --url URL     the agent (default http://127.0.0.1:<site network.httpPort or 8080>)
  --lan ADDR    the address phones use (default: this machine's first LAN IPv4)
  --ready       only wait until /readyz answers 200 (exit 0) or --timeout passes (exit 1)
  --timeout S   seconds --ready waits (default 30); seconds the PBX gets to answer (default 3)
  --json        print {"ok", "findings": [{check, status, message, items, fix}]}
  --service     as a service: data directory $STATE_DIRECTORY or /var/lib/hotdesk
${STORE_HELP}

Exit codes: 0 nothing wrong, 1 something is wrong (every warning and failure
is printed with its fix), 2 usage error.
`;

function defaultUrl(httpPort: number | undefined): string {
  return `http://127.0.0.1:${httpPort ?? 8080}`;
}

async function waitReady(url: string, timeoutMs: number, io: Io): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetchReady(url, 1_000);
    if (r?.status === 200) {
      io.out(`ready: ${url}\n`);
      return EXIT.ok;
    }
    if (Date.now() >= end) {
      io.err(`hotdesk doctor: the agent at ${url} is not ready after ${Math.round(timeoutMs / 1000)} s`);
      return EXIT.failed;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function print(io: Io, findings: readonly Finding[]): void {
  const tag = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  for (const f of findings) {
    io.out(`${tag[f.status]}  ${f.message}\n`);
    for (const item of f.items ?? []) io.out(`        - ${item}\n`);
    if (f.status !== 'ok' && f.fix) io.out(`      fix: ${f.fix}\n`);
  }
  const bad = findings.filter((f) => f.status !== 'ok').length;
  io.out(bad === 0 ? '\nnothing wrong found\n' : `\n${bad} problem(s) found\n`);
}

/** `hotdesk doctor`. */
export const doctorCommand: Command = defineCommand(
  {
    name: 'doctor',
    help: doctorHelp,
    options: {
      ...JSON_OPTION,
      ...STORE_OPTION,
      url: { type: 'string' },
      lan: { type: 'string' },
      ready: { type: 'boolean' },
      timeout: { type: 'string' },
      service: { type: 'boolean' },
    },
  },
  async (p, io) => {
    const urlOpt = optString(p, 'url');
    if (urlOpt !== undefined && !/^https?:\/\/[^/\s]+/.test(urlOpt)) throw new UsageError('--url must be an http(s) URL');
    const timeoutS = optInt(p, 'timeout', 1);
    if (optFlag(p, 'ready')) return waitReady(urlOpt ?? defaultUrl(undefined), (timeoutS ?? 30) * 1000, io);
    const dir = dataDir(p, io);
    const lan = optString(p, 'lan') ?? advertisedAddress('0.0.0.0');
    const storeUrl = storeSetting(p, io);
    const where = storeUrl === undefined ? `data ${dir}` : `store ${redactStoreUrl(storeUrl)}, data key in ${dir}`;
    return withStore(
      dir,
      async (store) => {
        const site = await store.getSite();
        const url = urlOpt ?? defaultUrl(site.network?.httpPort);
        const ready = await fetchReady(url);
        const findings: Finding[] = [agentFinding(url, ready)];
        if (ready) findings.push(...(await listenerFindings(lan, ready.body.listeners ?? {}, url.startsWith('https:'))));
        findings.push(...(await pbxFindings(site, Date.now, (timeoutS ?? 3) * 1000)));
        const httpPort = typeof ready?.body.listeners?.['http'] === 'number' ? ready.body.listeners['http'] : (site.network?.httpPort ?? 8080);
        findings.push(...(await phoneFindings(store, provisioningUrl(site, lan, httpPort), Date.now())));
        findings.push(...(await templateFindings(store, dir, site.provisioning.baseUrl ?? `http://${lan}:${httpPort}`)));
        const ok = findings.every((f) => f.status === 'ok');
        if (optFlag(p, 'json')) printJson(io, { ok, site: site.name, findings });
        else {
          io.out(`hotdesk doctor: site "${site.name}", ${where}\n\n`);
          print(io, findings);
        }
        return ok ? EXIT.ok : EXIT.failed;
      },
      { store: storeUrl },
    );
  },
);
