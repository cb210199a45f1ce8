/**
 * SSDP messages (UPnP Device Architecture 1.1 §1 "Discovery"): HTTP-over-UDP
 * `NOTIFY * HTTP/1.1` (ssdp:alive / ssdp:byebye), `M-SEARCH * HTTP/1.1`, and
 * the unicast `HTTP/1.1 200 OK` search answer, used so that admin tools can
 * find agents on the LAN (phones do not use SSDP; they use SIP PnP and DHCP).
 *
 * The agent announces only its own service type; LOCATION points at its JSON
 * description (not a UPnP device description).
 *
 * Pure module: dates and identifiers are parameters.
 */

/** Our search target / notification type. */
export const SSDP_SERVICE_TYPE = 'urn:hotdesk-agent:service:provisioning:1';
/** The SSDP IPv4 multicast group and port (UDA 1.1 §1). */
export const SSDP_GROUP = '239.255.255.250';
export const SSDP_PORT = 1900;

/** A parsed SSDP datagram. Header names are uppercased. */
export type SsdpMessage =
  | { readonly kind: 'notify'; readonly headers: ReadonlyMap<string, string> }
  | { readonly kind: 'msearch'; readonly headers: ReadonlyMap<string, string> }
  | { readonly kind: 'response'; readonly status: number; readonly headers: ReadonlyMap<string, string> };

/** The fields every announcement or answer carries. */
export interface SsdpAdvert {
  /** Agent UUID (without `uuid:`). */
  readonly uuid: string;
  /** URL of the agent's JSON description. */
  readonly location: string;
  /** CACHE-CONTROL max-age in seconds (UDA: at least 1800). */
  readonly maxAgeSec: number;
  /** SERVER header: `OS/version UPnP/1.1 product/version`. */
  readonly server: string;
  /** NT / ST, default {@link SSDP_SERVICE_TYPE}. */
  readonly type?: string;
}

/** `uuid:<id>::<type>` (UDA 1.1 §1.1.4, Table 1-1). */
export function ssdpUsn(uuid: string, type: string = SSDP_SERVICE_TYPE): string {
  return `uuid:${uuid}::${type}`;
}

function frame(startLine: string, headers: ReadonlyArray<readonly [string, string]>): string {
  for (const [k, v] of headers) {
    if (/[\r\n\0]/.test(k) || /[\r\n\0]/.test(v)) throw new RangeError(`SSDP header ${k} contains CR, LF or NUL`);
  }
  return [startLine, ...headers.map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
}

function hostHeader(group: string, port: number): string {
  return `${group.includes(':') ? `[${group}]` : group}:${port}`;
}

/** `NOTIFY * HTTP/1.1` with `NTS: ssdp:alive` (UDA 1.1 §1.2.2). */
export function buildSsdpAlive(a: SsdpAdvert, dest: { group?: string; port?: number } = {}): string {
  const type = a.type ?? SSDP_SERVICE_TYPE;
  return frame('NOTIFY * HTTP/1.1', [
    ['HOST', hostHeader(dest.group ?? SSDP_GROUP, dest.port ?? SSDP_PORT)],
    ['CACHE-CONTROL', `max-age=${Math.max(1, Math.floor(a.maxAgeSec))}`],
    ['LOCATION', a.location],
    ['NT', type],
    ['NTS', 'ssdp:alive'],
    ['SERVER', a.server],
    ['USN', ssdpUsn(a.uuid, type)],
  ]);
}

/** `NOTIFY * HTTP/1.1` with `NTS: ssdp:byebye` (UDA 1.1 §1.2.4). */
export function buildSsdpByebye(b: { uuid: string; type?: string }, dest: { group?: string; port?: number } = {}): string {
  const type = b.type ?? SSDP_SERVICE_TYPE;
  return frame('NOTIFY * HTTP/1.1', [
    ['HOST', hostHeader(dest.group ?? SSDP_GROUP, dest.port ?? SSDP_PORT)],
    ['NT', type],
    ['NTS', 'ssdp:byebye'],
    ['USN', ssdpUsn(b.uuid, type)],
  ]);
}

/** `M-SEARCH * HTTP/1.1` (UDA 1.1 §1.3.2); MX 1..5 seconds. */
export function buildSsdpMSearch(s: { st?: string; mx?: number; group?: string; port?: number; userAgent?: string } = {}): string {
  const headers: Array<[string, string]> = [
    ['HOST', hostHeader(s.group ?? SSDP_GROUP, s.port ?? SSDP_PORT)],
    ['MAN', '"ssdp:discover"'],
    ['MX', String(Math.min(5, Math.max(1, Math.floor(s.mx ?? 1))))],
    ['ST', s.st ?? SSDP_SERVICE_TYPE],
  ];
  if (s.userAgent) headers.push(['USER-AGENT', s.userAgent]);
  return frame('M-SEARCH * HTTP/1.1', headers);
}

/** The unicast `HTTP/1.1 200 OK` answer to an M-SEARCH (UDA 1.1 §1.3.3); `date` is an RFC 1123 date, when known. */
export function buildSsdpSearchResponse(a: SsdpAdvert, date?: string): string {
  const type = a.type ?? SSDP_SERVICE_TYPE;
  const headers: Array<[string, string]> = [['CACHE-CONTROL', `max-age=${Math.max(1, Math.floor(a.maxAgeSec))}`]];
  if (date) headers.push(['DATE', date]);
  headers.push(['EXT', ''], ['LOCATION', a.location], ['SERVER', a.server], ['ST', type], ['USN', ssdpUsn(a.uuid, type)]);
  return frame('HTTP/1.1 200 OK', headers);
}

/** Parses an SSDP datagram; null for anything else (never throws). */
export function parseSsdpMessage(data: Uint8Array | string): SsdpMessage | null {
  if (data.length === 0 || data.length > 8192) return null;
  const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const lines = text.split(/\r?\n/);
  const start = (lines.shift() ?? '').trim();
  const headers = new Map<string, string>();
  for (const line of lines) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trim().toUpperCase();
    if (!/^[A-Z0-9.!%*_+`'~-]+$/.test(name)) return null;
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  if (/^NOTIFY \* HTTP\/1\.[01]$/i.test(start)) return { kind: 'notify', headers };
  if (/^M-SEARCH \* HTTP\/1\.[01]$/i.test(start)) return { kind: 'msearch', headers };
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/i.exec(start);
  if (m) return { kind: 'response', status: Number(m[1]), headers };
  return null;
}

/** `max-age` from a CACHE-CONTROL value, or null. */
export function parseMaxAge(cacheControl: string | undefined): number | null {
  const m = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,9})"?/i.exec(cacheControl ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * True when an M-SEARCH asks for us: a well-formed discover (MAN
 * "ssdp:discover") whose ST is `ssdp:all` or our type (UDA 1.1 §1.3.2).
 */
export function msearchWantsUs(m: SsdpMessage, type: string = SSDP_SERVICE_TYPE): boolean {
  if (m.kind !== 'msearch') return false;
  if ((m.headers.get('MAN') ?? '').replace(/"/g, '').trim().toLowerCase() !== 'ssdp:discover') return false;
  const st = (m.headers.get('ST') ?? '').trim();
  return st === 'ssdp:all' || st === type;
}

/** MX of an M-SEARCH clamped to 1..5 seconds (UDA 1.1: values above 5 are treated as 5). */
export function msearchMx(m: SsdpMessage): number {
  const n = Number((m.headers.get('MX') ?? '1').trim());
  return Number.isFinite(n) ? Math.min(5, Math.max(1, Math.floor(n))) : 1;
}
