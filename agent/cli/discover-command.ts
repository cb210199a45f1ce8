/**
 * `hotdesk discover`: finds hotdesk agents on the LAN by SSDP (M-SEARCH,
 * shell/discovery/ssdp-discover.ts), then GETs each answer's LOCATION (the agent's JSON
 * description) and prints its name and URLs.
 */
import { isIPv4 } from 'node:net';
import { discoverAgents, type DiscoveredAgent, type DiscoverOptions } from '../shell/discovery/ssdp-discover.js';
import { COMMON_HELP, EXIT, JSON_OPTION, UsageError, optFlag, optInt, optString, printJson, defineCommand, type Command } from './cli-kit.js';

const DEFAULT_TIMEOUT_MS = 3000;
/** Cap on the description GET and its body (a LAN answer should be tiny). */
const FETCH_TIMEOUT_MS = 3000;
const MAX_DESCRIPTION_BYTES = 64 * 1024;

const discoverHelp = `Usage: hotdesk discover [--timeout MS] [--port N] [--interface ADDR] [--json]

Find hotdesk agents on the local network: send an SSDP M-SEARCH (UDP
multicast 239.255.255.250:1900), collect the answers for MS milliseconds,
then fetch each agent's description (its LOCATION URL) and print the agent's
site name, provisioning URL and API URL. Agents answer only when serve runs
with --ssdp (or --ssdp-port N: search with the same --port).

Options:
  --timeout MS       how long to listen for answers (default ${DEFAULT_TIMEOUT_MS})
  --port N           SSDP port to search on (default 1900)
  --group ADDR       SSDP destination address (default 239.255.255.250;
                     a unicast address asks that host only)
  --interface ADDR   IPv4 address of the interface to search on
  --json             print a JSON array of {location, usn, server, address,
                     description | error}
${COMMON_HELP}
  (--data is accepted and ignored: discover reads no data directory)

Exit codes: 0 the search ran, also when no agent answered (then 'No agent
answered within MS ms.' is printed, or [] with --json); 1 the search could
not be sent (e.g. ADDR is not an address of this host); 2 usage error.
`;

/** One found agent with its fetched description (or why it could not be fetched). */
export interface DiscoveredDescription extends DiscoveredAgent {
  readonly description?: unknown;
  readonly error?: string;
}

/** GETs an agent's JSON description; failures become an `error` string, never a throw. */
export async function describeAgent(agent: DiscoveredAgent): Promise<DiscoveredDescription> {
  let url: URL;
  try {
    url = new URL(agent.location);
  } catch {
    return { ...agent, error: 'LOCATION is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ...agent, error: 'LOCATION is not an http(s) URL' };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    const body = await res.text();
    if (!res.ok) return { ...agent, error: `HTTP ${res.status}` };
    if (body.length > MAX_DESCRIPTION_BYTES) return { ...agent, error: 'description too large' };
    return { ...agent, description: JSON.parse(body) as unknown };
  } catch (e) {
    return { ...agent, error: e instanceof SyntaxError ? 'description is not JSON' : 'description not reachable' };
  }
}

/** The agent's name from its description (`name`, else `site`, else the address). */
function nameOf(d: DiscoveredDescription): string {
  const desc = d.description;
  if (desc !== null && typeof desc === 'object') {
    const o = desc as Record<string, unknown>;
    for (const k of ['name', 'site', 'siteName']) {
      const v = o[k];
      if (typeof v === 'string' && v !== '') return v;
      if (v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>)['name'] === 'string') return (v as Record<string, string>)['name'] ?? '';
    }
  }
  return d.address;
}

/** Every `http(s)://` string in the description, as `key=url` (nested keys dotted). */
function urlsOf(value: unknown, prefix = '', out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (/^(https?|tftp|wss?):\/\//.test(value)) out.push(`${prefix}=${value}`);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) urlsOf(v, `${prefix}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) urlsOf(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

/** `hotdesk discover`. */
export const discoverCommand: Command = defineCommand(
  {
    name: 'discover',
    help: discoverHelp,
    options: {
      ...JSON_OPTION,
      timeout: { type: 'string' },
      port: { type: 'string' },
      group: { type: 'string' },
      interface: { type: 'string' },
    },
  },
  async (p, io) => {
    const timeoutMs = optInt(p, 'timeout', 1) ?? DEFAULT_TIMEOUT_MS;
    if (timeoutMs > 60_000) throw new UsageError('--timeout must be at most 60000');
    const port = optInt(p, 'port', 1);
    if (port !== undefined && port > 65535) throw new UsageError('--port must be at most 65535');
    const group = optString(p, 'group');
    const iface = optString(p, 'interface');
    if (iface !== undefined && !isIPv4(iface)) throw new UsageError('--interface must be the IPv4 address of a local interface');
    const opts: DiscoverOptions = {
      timeoutMs,
      ...(port !== undefined ? { port } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(iface !== undefined ? { interfaceAddress: iface } : {}),
    };
    const agents = await discoverAgents(opts);
    const described = await Promise.all(agents.map(describeAgent));
    if (optFlag(p, 'json')) {
      printJson(io, described);
      return EXIT.ok;
    }
    if (described.length === 0) {
      io.out(`No agent answered within ${timeoutMs} ms.\n`);
      return EXIT.ok;
    }
    const blocks = described.map((d) => {
      const rows: [string, string][] = [['location', d.location]];
      if (d.error !== undefined) rows.push(['error', d.error]);
      for (const u of urlsOf(d.description)) {
        const at = u.indexOf('=');
        rows.push([u.slice(0, at), u.slice(at + 1)]);
      }
      const w = Math.max(...rows.map(([k]) => k.length));
      return `${nameOf(d)} (${d.address})\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
    });
    io.out(blocks.join('\n'));
    return EXIT.ok;
  },
);
