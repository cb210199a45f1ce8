import { describe, expect, it } from 'vitest';
import { decodeTftpPacket, encodeTftpData, encodeTftpPacket, parseRequestedOptions, tftpAckBlock, type TftpPacket } from '../../agent/protocols/tftp-packet.js';

function roundTrip(p: TftpPacket): TftpPacket {
  const r = decodeTftpPacket(encodeTftpPacket(p));
  if (!r.ok) throw new Error(r.reason);
  return r.packet;
}

describe('tftp DATA encoding', () => {
  it('writes opcode, the block number modulo 65536 and the payload into one buffer', () => {
    const payload = Buffer.from([1, 2, 3, 250]);
    const b = encodeTftpData(70_000, payload.subarray(1));
    expect([...b]).toEqual([0, 3, 0x11, 0x70, 2, 3, 250]);
    expect(decodeTftpPacket(b)).toEqual({ ok: true, packet: { op: 'data', block: 70_000 & 0xffff, data: Buffer.from([2, 3, 250]) } });
    expect(encodeTftpPacket({ op: 'data', block: 5, data: Buffer.alloc(0) }).equals(Buffer.from([0, 3, 0, 5]))).toBe(true);
  });

  it('reads an ACK block number without decoding, as decodeTftpPacket does, and -1 for anything else', () => {
    for (const block of [0, 1, 258, 65535]) {
      const ack = encodeTftpPacket({ op: 'ack', block });
      expect(tftpAckBlock(ack)).toBe(block);
      expect(decodeTftpPacket(ack)).toEqual({ ok: true, packet: { op: 'ack', block } });
    }
    expect(tftpAckBlock(Buffer.from([0, 4, 1, 2, 9]))).toBe(258); // trailing bytes ignored, as the decoder does
    expect(tftpAckBlock(Buffer.from([0, 4, 1]))).toBe(-1); // truncated
    expect(tftpAckBlock(encodeTftpData(7, Buffer.from([1])))).toBe(-1);
    expect(tftpAckBlock(encodeTftpPacket({ op: 'error', code: 4, message: 'x' }))).toBe(-1);
    expect(tftpAckBlock(Buffer.from([1, 4, 0, 1]))).toBe(-1); // opcode 260, not 4
  });
});

describe('tftp packet codec (RFC 1350, 2347)', () => {
  it('round-trips every packet type', () => {
    const rrq: TftpPacket = { op: 'rrq', filename: 'y000000000044.cfg', mode: 'octet', options: { blksize: '1428', tsize: '0' } };
    expect(roundTrip(rrq)).toEqual(rrq);
    const wrq: TftpPacket = { op: 'wrq', filename: 'a/b', mode: 'netascii', options: {} };
    expect(roundTrip(wrq)).toEqual(wrq);
    const data = roundTrip({ op: 'data', block: 65535, data: Buffer.from([1, 2, 3]) });
    expect(data).toMatchObject({ op: 'data', block: 65535 });
    expect(data.op === 'data' && [...data.data]).toEqual([1, 2, 3]);
    expect(roundTrip({ op: 'data', block: 7, data: Buffer.alloc(0) })).toMatchObject({ op: 'data', block: 7 });
    expect(roundTrip({ op: 'ack', block: 0 })).toEqual({ op: 'ack', block: 0 });
    expect(roundTrip({ op: 'error', code: 2, message: 'Access violation' })).toEqual({ op: 'error', code: 2, message: 'Access violation' });
    expect(roundTrip({ op: 'oack', options: { blksize: '1468', windowsize: '8' } })).toEqual({ op: 'oack', options: { blksize: '1468', windowsize: '8' } });
  });

  it('encodes the exact RFC 1350 wire layout', () => {
    expect([...encodeTftpPacket({ op: 'ack', block: 258 })]).toEqual([0, 4, 1, 2]);
    expect(encodeTftpPacket({ op: 'rrq', filename: 'f', mode: 'octet', options: {} }).toString('latin1')).toBe('\x00\x01f\x00octet\x00');
    // Block numbers wrap modulo 65536 on the wire.
    expect([...encodeTftpPacket({ op: 'data', block: 65536, data: Buffer.alloc(0) })]).toEqual([0, 3, 0, 0]);
    // A NUL in an error text would truncate it: it is removed.
    expect(encodeTftpPacket({ op: 'error', code: 0, message: 'a\0b' }).toString('latin1')).toBe('\x00\x05\x00\x00ab\x00');
  });

  it('lower-cases mode and option names, keeps values, first duplicate wins', () => {
    const r = decodeTftpPacket(Buffer.from('\x00\x01File.CFG\x00OCTET\x00BlkSize\x001024\x00blksize\x00512\x00', 'latin1'));
    expect(r).toEqual({ ok: true, packet: { op: 'rrq', filename: 'File.CFG', mode: 'octet', options: { blksize: '1024' } } });
  });

  it('returns a typed error for garbage, never throws', () => {
    const bad = [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([0, 9, 1, 2]), // unknown opcode
      Buffer.from([0, 0]),
      Buffer.from('\x00\x01abc', 'latin1'), // unterminated file name
      Buffer.from('\x00\x01abc\x00', 'latin1'), // no mode
      Buffer.from('\x00\x01\x00octet\x00', 'latin1'), // empty file name
      Buffer.from('\x00\x01f\x00octet\x00blksize\x00', 'latin1'), // option without value
      Buffer.from('\x00\x01f\x00octet\x00\x00x\x00', 'latin1'), // empty option name
      Buffer.from([0, 3, 1]), // truncated DATA
      Buffer.from([0, 4, 0]), // truncated ACK
      Buffer.from([0, 5, 0]), // truncated ERROR
      Buffer.from('\x00\x06blksize', 'latin1'), // unterminated OACK
    ];
    for (const b of bad) {
      const r = decodeTftpPacket(b);
      expect(r.ok, b.toString('hex')).toBe(false);
      if (!r.ok) expect(typeof r.reason).toBe('string');
    }
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      const len = i % 40;
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        b[j] = seed >>> 24;
      }
      expect(() => decodeTftpPacket(b)).not.toThrow();
    }
  });

  it('accepts an ERROR without terminator (informational text)', () => {
    expect(decodeTftpPacket(Buffer.from('\x00\x05\x00\x01nope', 'latin1'))).toEqual({ ok: true, packet: { op: 'error', code: 1, message: 'nope' } });
  });
});

describe('requested option validation (RFC 2348, 2349, 7440)', () => {
  it('keeps values in range', () => {
    expect(parseRequestedOptions({ blksize: '8', tsize: '0', timeout: '255', windowsize: '65535' })).toEqual({
      blksize: 8,
      tsize: 0,
      timeout: 255,
      windowsize: 65535,
    });
    expect(parseRequestedOptions({ blksize: '65464', timeout: '1', windowsize: '1' })).toEqual({ blksize: 65464, timeout: 1, windowsize: 1 });
  });
  it('drops values out of range or not decimal', () => {
    expect(parseRequestedOptions({ blksize: '7', timeout: '0', windowsize: '0' })).toEqual({});
    expect(parseRequestedOptions({ blksize: '65465', timeout: '256', windowsize: '65536' })).toEqual({});
    expect(parseRequestedOptions({ blksize: '1e3', tsize: 'enable', timeout: '-1', windowsize: ' 8' })).toEqual({});
    expect(parseRequestedOptions({ multicast: '', foo: 'bar' })).toEqual({});
  });
});
