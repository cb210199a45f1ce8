/**
 * TFTP packet codec: RRQ, WRQ, DATA, ACK, ERROR (RFC 1350 §5) and OACK
 * (RFC 2347), plus validation of the options this agent understands:
 * `blksize` (RFC 2348), `timeout` and `tsize` (RFC 2349), `windowsize`
 * (RFC 7440).
 *
 * Decoding never throws: malformed input yields `{ ok: false, reason }`.
 * Strings on the wire (file name, mode, option names/values, error text) are
 * NUL-terminated bytes; they are decoded as latin1 so every byte maps to one
 * character and nothing is silently replaced (path checks then see exactly
 * what the requester sent).
 *
 * Pure module: no I/O.
 */

/** Opcodes (RFC 1350 §5, RFC 2347 for OACK). */
export const TFTP_OPCODE = { rrq: 1, wrq: 2, data: 3, ack: 4, error: 5, oack: 6 } as const;

/** TFTP error codes (RFC 1350 appendix, RFC 2347 for 8). */
export const TFTP_ERROR_CODE = {
  notDefined: 0,
  fileNotFound: 1,
  accessViolation: 2,
  diskFull: 3,
  illegalOperation: 4,
  unknownTransferId: 5,
  fileExists: 6,
  noSuchUser: 7,
  optionRefused: 8,
} as const;

/** Default block size (RFC 1350 §2). */
export const TFTP_DEFAULT_BLKSIZE = 512;
/** Smallest `blksize` a client may ask for (RFC 2348). */
export const TFTP_BLKSIZE_MIN = 8;
/** Largest `blksize` a client may ask for (RFC 2348). */
export const TFTP_BLKSIZE_MAX = 65464;
/** Smallest `timeout` option in seconds (RFC 2349). */
export const TFTP_TIMEOUT_MIN = 1;
/** Largest `timeout` option in seconds (RFC 2349). */
export const TFTP_TIMEOUT_MAX = 255;
/** Smallest `windowsize` option (RFC 7440 §3). */
export const TFTP_WINDOWSIZE_MIN = 1;
/** Largest `windowsize` option (RFC 7440 §3). */
export const TFTP_WINDOWSIZE_MAX = 65535;

/** Read or write request (RFC 1350 §5; options RFC 2347 §2). */
export interface TftpRequestPacket {
  readonly op: 'rrq' | 'wrq';
  readonly filename: string;
  /** Lower-cased transfer mode (`netascii`, `octet`, `mail`, or anything else sent). */
  readonly mode: string;
  /** Options as sent, names lower-cased (RFC 2347: names are case-insensitive), values verbatim. */
  readonly options: Readonly<Record<string, string>>;
}
/** DATA (RFC 1350 §5): 16-bit block number and up to blksize bytes. */
export interface TftpDataPacket {
  readonly op: 'data';
  readonly block: number;
  readonly data: Buffer;
}
/** ACK (RFC 1350 §5). */
export interface TftpAckPacket {
  readonly op: 'ack';
  readonly block: number;
}
/** ERROR (RFC 1350 §5). */
export interface TftpErrorPacket {
  readonly op: 'error';
  readonly code: number;
  readonly message: string;
}
/** Option acknowledgment (RFC 2347 §2). */
export interface TftpOackPacket {
  readonly op: 'oack';
  readonly options: Readonly<Record<string, string>>;
}
/** Any TFTP packet. */
export type TftpPacket = TftpRequestPacket | TftpDataPacket | TftpAckPacket | TftpErrorPacket | TftpOackPacket;

/** Result of decoding one datagram: never throws. */
export type TftpDecodeResult = { readonly ok: true; readonly packet: TftpPacket } | { readonly ok: false; readonly reason: string };

/** Reads NUL-terminated strings from `buf` starting at `offset`; null if a string is unterminated. */
function readStrings(buf: Buffer, offset: number): string[] | null {
  const out: string[] = [];
  let start = offset;
  while (start < buf.length) {
    const end = buf.indexOf(0, start);
    if (end < 0) return null;
    out.push(buf.toString('latin1', start, end));
    start = end + 1;
  }
  return out;
}

function fail(reason: string): TftpDecodeResult {
  return { ok: false, reason };
}

/** Decodes option name/value pairs (RFC 2347 §2); duplicate names: first wins. */
function decodeOptionPairs(parts: readonly string[]): Record<string, string> | null {
  if (parts.length % 2 !== 0) return null;
  const options: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 2) {
    const name = (parts[i] ?? '').toLowerCase();
    const value = parts[i + 1] ?? '';
    if (name === '') return null;
    if (!Object.hasOwn(options, name)) options[name] = value;
  }
  return options;
}

/** Decodes one TFTP datagram. Garbage yields `{ ok: false }` with a short reason. */
export function decodeTftpPacket(buf: Buffer): TftpDecodeResult {
  if (buf.length < 2) return fail('datagram shorter than an opcode');
  const opcode = buf.readUInt16BE(0);
  switch (opcode) {
    case TFTP_OPCODE.rrq:
    case TFTP_OPCODE.wrq: {
      const parts = readStrings(buf, 2);
      if (parts === null) return fail('unterminated string in request');
      const [filename, mode, ...rest] = parts;
      if (filename === undefined || mode === undefined) return fail('request lacks file name or mode');
      if (filename === '') return fail('empty file name');
      const options = decodeOptionPairs(rest);
      if (options === null) return fail('malformed request options');
      return { ok: true, packet: { op: opcode === TFTP_OPCODE.rrq ? 'rrq' : 'wrq', filename, mode: mode.toLowerCase(), options } };
    }
    case TFTP_OPCODE.data:
      if (buf.length < 4) return fail('truncated DATA');
      return { ok: true, packet: { op: 'data', block: buf.readUInt16BE(2), data: buf.subarray(4) } };
    case TFTP_OPCODE.ack:
      if (buf.length < 4) return fail('truncated ACK');
      return { ok: true, packet: { op: 'ack', block: buf.readUInt16BE(2) } };
    case TFTP_OPCODE.error: {
      if (buf.length < 4) return fail('truncated ERROR');
      const code = buf.readUInt16BE(2);
      // Be lenient about a missing terminator in the message: it is informational.
      const end = buf.indexOf(0, 4);
      const message = buf.toString('latin1', 4, end < 0 ? buf.length : end);
      return { ok: true, packet: { op: 'error', code, message } };
    }
    case TFTP_OPCODE.oack: {
      const parts = readStrings(buf, 2);
      if (parts === null) return fail('unterminated string in OACK');
      const options = decodeOptionPairs(parts);
      if (options === null) return fail('malformed OACK options');
      return { ok: true, packet: { op: 'oack', options } };
    }
    default:
      return fail(`unknown opcode ${opcode}`);
  }
}

function strings(values: readonly string[]): Buffer[] {
  return values.flatMap((v) => [Buffer.from(v, 'latin1'), Buffer.from([0])]);
}

function opcodeBuf(op: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(op, 0);
  return b;
}

/**
 * The block number of an ACK datagram (RFC 1350 §5: opcode 4, 16-bit block;
 * what {@link decodeTftpPacket} reads), or -1 for anything else. The
 * per-ACK path of a transfer, so it allocates nothing.
 */
export function tftpAckBlock(buf: Uint8Array): number {
  return buf.length >= 4 && buf[0] === 0 && buf[1] === TFTP_OPCODE.ack ? (buf[2]! << 8) | buf[3]! : -1;
}

/**
 * Encodes DATA block `block` (taken modulo 65536) carrying `data` (RFC 1350
 * §5): one allocation, header and payload written in place. The per-block
 * path of a transfer, so it skips the generic encoder.
 */
export function encodeTftpData(block: number, data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(4 + data.length);
  b[0] = 0;
  b[1] = TFTP_OPCODE.data;
  b[2] = (block >>> 8) & 0xff;
  b[3] = block & 0xff;
  b.set(data, 4);
  return b;
}

/** Encodes any TFTP packet (inverse of {@link decodeTftpPacket}). Block numbers are taken modulo 65536. */
export function encodeTftpPacket(p: TftpPacket): Buffer {
  switch (p.op) {
    case 'rrq':
    case 'wrq': {
      const opts = Object.entries(p.options).flat();
      return Buffer.concat([opcodeBuf(TFTP_OPCODE[p.op]), ...strings([p.filename, p.mode, ...opts])]);
    }
    case 'data':
      return encodeTftpData(p.block, p.data);
    case 'ack': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(TFTP_OPCODE.ack, 0);
      b.writeUInt16BE(p.block & 0xffff, 2);
      return b;
    }
    case 'error': {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(TFTP_OPCODE.error, 0);
      head.writeUInt16BE(p.code & 0xffff, 2);
      // A NUL inside the text would end it early on the wire: drop such bytes.
      return Buffer.concat([head, ...strings([p.message.replace(/\0/g, '')])]);
    }
    case 'oack': {
      const opts = Object.entries(p.options).flat();
      return Buffer.concat([opcodeBuf(TFTP_OPCODE.oack), ...strings(opts)]);
    }
  }
}

/** Options this agent understands, validated (RFC 2348, 2349, 7440). */
export interface TftpRequestedOptions {
  /** Requested block size, within 8..65464. */
  readonly blksize?: number;
  /** Requested transfer size; a reading client sends 0 and expects the real size back. */
  readonly tsize?: number;
  /** Requested retransmission timeout in seconds, 1..255. */
  readonly timeout?: number;
  /** Requested window size, 1..65535. */
  readonly windowsize?: number;
}

function parseIntInRange(value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined || !/^[0-9]{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * Picks out and validates the known options of a request. An option with an
 * invalid value is left out, which RFC 2347 §2 permits (the server simply does
 * not acknowledge it, and the transfer proceeds with the default).
 */
export function parseRequestedOptions(options: Readonly<Record<string, string>>): TftpRequestedOptions {
  const blksize = parseIntInRange(options['blksize'], TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX);
  const tsize = parseIntInRange(options['tsize'], 0, Number.MAX_SAFE_INTEGER);
  const timeout = parseIntInRange(options['timeout'], TFTP_TIMEOUT_MIN, TFTP_TIMEOUT_MAX);
  const windowsize = parseIntInRange(options['windowsize'], TFTP_WINDOWSIZE_MIN, TFTP_WINDOWSIZE_MAX);
  return {
    ...(blksize !== undefined ? { blksize } : {}),
    ...(tsize !== undefined ? { tsize } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(windowsize !== undefined ? { windowsize } : {}),
  };
}
