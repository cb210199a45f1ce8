/**
 * SIP header-value parsers (RFC 3261 §19.1.1, §20, §25; RFC 3581): header
 * parameters, Via, CSeq, name-addr / addr-spec and sip:/sips: URIs, plus the
 * URI user escaping and host formatting used when building messages.
 *
 * Pure module: no I/O. Parsers never throw: malformed input yields null.
 * Re-exported by sip-message.ts, so importers of the codec keep working.
 */

/** Parses `;name=value;flag` parameters (names lowercased, quotes removed; a flag maps to ''). */
export function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of splitOutsideQuotes(text, ';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    let value = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key && !out.has(key)) out.set(key, value);
  }
  return out;
}

function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** A parsed Via value (RFC 3261 §20.42, RFC 3581 rport). */
export interface SipVia {
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly branch?: string;
  /** `rport` value; `''` when the flag is present without a value. */
  readonly rport?: string;
  readonly received?: string;
  readonly params: ReadonlyMap<string, string>;
}

/** Parses one Via value; null when malformed. */
export function parseVia(value: string): SipVia | null {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(\[[0-9a-fA-F:.]+\]|[^\s;:]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/.exec(value.trim());
  if (!m) return null;
  const params = parseParams(m[4] ?? '');
  const via: { -readonly [K in keyof SipVia]: SipVia[K] } = { transport: (m[1] ?? '').toUpperCase(), host: m[2] ?? '', params };
  if (m[3]) via.port = Number(m[3]);
  const branch = params.get('branch');
  if (branch !== undefined) via.branch = branch;
  const rport = params.get('rport');
  if (rport !== undefined) via.rport = rport;
  const received = params.get('received');
  if (received !== undefined) via.received = received;
  return via;
}

/**
 * Parses `CSeq: 12 NOTIFY` (RFC 3261 §20.16); null when malformed or when the
 * number is not below 2**31 (RFC 3261 §8.1.1.5; RFC 4475 `scalar02`). The
 * method is kept as sent: it must match the request's method exactly.
 */
export function parseCSeq(value: string | undefined): { seq: number; method: string } | null {
  const m = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/.exec((value ?? '').trim());
  if (!m) return null;
  const seq = Number(m[1]);
  if (seq > 2 ** 31 - 1) return null;
  return { seq, method: m[2] ?? '' };
}

/** A parsed name-addr / addr-spec with header parameters (From, To, Contact; RFC 3261 §20.10). */
export interface SipNameAddr {
  readonly displayName: string;
  readonly uri: string;
  readonly params: ReadonlyMap<string, string>;
}

/** Parses `"Name" <sip:u@h>;tag=x` or `sip:u@h;tag=x`; null when malformed. */
export function parseNameAddr(value: string): SipNameAddr | null {
  const v = value.trim();
  const lt = indexOutsideQuotes(v, '<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return null;
    let displayName = v.slice(0, lt).trim();
    if (displayName.startsWith('"') && displayName.endsWith('"') && displayName.length >= 2) {
      displayName = displayName.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    const uri = v.slice(lt + 1, gt).trim();
    if (!uri) return null;
    return { displayName, uri, params: parseParams(v.slice(gt + 1)) };
  }
  // addr-spec form: parameters after the URI belong to the header (RFC 3261 §20.10).
  const semi = v.indexOf(';');
  const uri = (semi < 0 ? v : v.slice(0, semi)).trim();
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/.test(uri)) return null;
  return { displayName: '', uri, params: parseParams(semi < 0 ? '' : v.slice(semi)) };
}

function indexOutsideQuotes(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"' && s[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && s[i] === ch) return i;
  }
  return -1;
}

/** A parsed sip:/sips: URI (RFC 3261 §19.1.1). `user` is percent-decoded. */
export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
  readonly params: ReadonlyMap<string, string>;
  /** The raw `?headers` part (without the `?`), when present (RFC 3261 §19.1.1). */
  readonly headers?: string;
}

/**
 * Parses a sip:/sips: URI; null when malformed. The user part ends at the
 * last `@` (it may hold `;`, `?`, `/`: RFC 3261 §25.1 user-unreserved, RFC
 * 4475 `semiuri`, `intmeth`) and is percent-decoded (`esc01`, `escnull`: a
 * `%00` stays in the user, it does not end it).
 */
export function parseSipUri(uri: string): SipUri | null {
  const m = /^(sips?):(.+)$/i.exec(uri.trim());
  if (!m) return null;
  const rest = m[2] ?? '';
  const at = rest.lastIndexOf('@');
  const hostPart = /^(\[[0-9a-fA-F:.]+\]|[^:;?@\s[\]<>"]+)(?::(\d{1,5}))?(;[^?]*)?(?:\?(.*))?$/.exec(at < 0 ? rest : rest.slice(at + 1));
  if (!hostPart) return null;
  const out: { -readonly [K in keyof SipUri]: SipUri[K] } = {
    scheme: (m[1] ?? 'sip').toLowerCase() as 'sip' | 'sips',
    host: hostPart[1] ?? '',
    params: parseParams(hostPart[3] ?? ''),
  };
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (/[\s<>"]/.test(user)) return null;
    try {
      out.user = decodeURIComponent(user);
    } catch {
      return null;
    }
  }
  if (hostPart[2]) out.port = Number(hostPart[2]);
  if (hostPart[4] !== undefined) out.headers = hostPart[4];
  return out;
}

/** Percent-encodes a SIP URI user part (RFC 3261 §25.1: unreserved, user-unreserved and escaped). */
export function escapeSipUser(user: string): string {
  let out = '';
  for (const byte of Buffer.from(user, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Formats a host for a URI or Via: IPv6 literals get brackets. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
