/**
 * Reads the UDP datagrams of a classic libpcap capture (Ethernet or raw IPv4
 * link types, either byte order): enough to replay the RTP captures that
 * SIPp ships (e.g. /usr/share/sip-tester/dtmf_2833_*.pcap) in tests.
 */
import { readFileSync } from 'node:fs';

/** One captured IPv4/UDP datagram. */
export interface PcapUdp {
  readonly timeMs: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** The IPv4 UDP datagrams of a pcap file, in capture order (other frames are skipped). */
export function readPcapUdp(file: string): PcapUdp[] {
  const buf = readFileSync(file);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const nanos = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const linkType = u32(20);
  const out: PcapUdp[] = [];
  for (let at = 24; at + 16 <= buf.length; ) {
    const timeMs = u32(at) * 1000 + u32(at + 4) / (nanos ? 1e6 : 1e3);
    const frame = buf.subarray(at + 16, at + 16 + u32(at + 8));
    at += 16 + frame.length;
    let ip = linkType === 1 ? 14 : linkType === 101 ? 0 : -1;
    if (ip === 14 && frame.readUInt16BE(12) === 0x8100) ip += 4; // 802.1Q tag
    if (ip < 0 || frame.length < ip + 28 || (frame[ip] ?? 0) >> 4 !== 4 || frame[ip + 9] !== 17) continue;
    const udp = ip + ((frame[ip] ?? 0) & 0x0f) * 4;
    const ipv4 = (o: number): string => [...frame.subarray(o, o + 4)].join('.');
    const length = frame.readUInt16BE(udp + 4);
    out.push({
      timeMs,
      src: ipv4(ip + 12),
      dst: ipv4(ip + 16),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: frame.subarray(udp + 8, udp + length),
    });
  }
  return out;
}
