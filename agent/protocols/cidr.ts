/**
 * CIDR allow-list matching for phone-facing requests (docs/behaviour.md §10, §11).
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.5`) match IPv4 ranges.
 */
import { isIP } from 'node:net';
import { HotdeskError } from '../core/errors.js';

interface Range {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function v4Bytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.').map((p) => Number(p)));
}

function v6Bytes(ip: string): Uint8Array {
  let text = ip;
  const out = new Uint8Array(16);
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: Uint8Array | null = null;
  if (v4tail?.[1]) {
    tail = v4Bytes(v4tail[1]);
    text = `${text.slice(0, -v4tail[1].length)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest !== undefined ? [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r] : h;
  groups.forEach((g, i) => {
    const v = parseInt(g || '0', 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/** Bytes of an address; IPv4-mapped IPv6 collapses to 4 bytes. */
export function addressBytes(ip: string): Uint8Array | null {
  const kind = isIP(ip);
  if (kind === 4) return v4Bytes(ip);
  if (kind === 6) {
    const b = v6Bytes(ip);
    const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    return mapped ? b.slice(12) : b;
  }
  return null;
}

/** Parses `10.0.0.0/8`, `192.168.1.7`, `fd00::/8`; throws `bad-request` on nonsense. */
export function parseCidr(text: string): Range {
  const [addr = '', bits] = text.trim().split('/');
  const bytes = addressBytes(addr);
  if (!bytes) throw new HotdeskError('bad-request', `not a network: ${text}`);
  const max = bytes.length * 8;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new HotdeskError('bad-request', `bad prefix length in ${text}`);
  return { bytes, prefix };
}

/** A compiled allow-list; an empty list allows everyone. */
export class AllowList {
  private readonly ranges: Range[];
  constructor(cidrs: readonly string[]) {
    this.ranges = cidrs.map(parseCidr);
  }
  /** True when `ip` is inside one of the networks (or the list is empty). */
  allows(ip: string): boolean {
    if (this.ranges.length === 0) return true;
    const b = addressBytes(ip);
    if (!b) return false;
    return this.ranges.some((r) => {
      if (r.bytes.length !== b.length) return false;
      let bits = r.prefix;
      for (let i = 0; bits > 0; i++, bits -= 8) {
        const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
        if (((b[i] ?? 0) & mask) !== ((r.bytes[i] ?? 0) & mask)) return false;
      }
      return true;
    });
  }
}
