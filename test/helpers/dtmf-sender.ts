/**
 * Key presses as a phone sends them in RTP, RFC 4733 telephone-events, built
 * here with the test's own encoder (not the agent's): per key, packets every
 * 20 ms with the event's start timestamp and a growing duration, then the
 * end packet three times (§2.5.1.2-§2.5.1.4); keys 60 ms apart; one SSRC and
 * running sequence numbers per sender (RFC 3550 §5.1).
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';

const EVENTS = '0123456789*#ABCD';

/** One RTP packet carrying one telephone-event block. */
export function telephoneEventPacket(o: {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  event: number;
  end: boolean;
  durationSamples: number;
}): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80; // version 2, no padding, extension or CSRC
  b[1] = (o.marker ? 0x80 : 0) | (o.payloadType & 0x7f);
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.timestamp >>> 0, 4);
  b.writeUInt32BE(o.ssrc >>> 0, 8);
  b[12] = o.event;
  b[13] = (o.end ? 0x80 : 0) | 10; // E bit, volume -10 dBm0
  b.writeUInt16BE(Math.min(0xffff, o.durationSamples), 14);
  return b;
}

/** A source of RFC 4733 key presses on its own UDP socket. */
export interface DtmfSender {
  readonly address: string;
  readonly port: number;
  /** Sends `digits` (`0-9 * # A-D`) to `to`, 100 ms per key; resolves when the last packet left. */
  send(to: { address: string; port: number }, digits: string, payloadType: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Binds a sender on `address` (e.g. 127.0.0.2 to play a third party);
 * `start` fixes its SSRC and first RTP timestamp (random by default).
 */
export async function startDtmfSender(address = '127.0.0.1', start: { ssrc?: number; timestamp?: number } = {}): Promise<DtmfSender> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  const ssrc = start.ssrc ?? randomInt(1, 2 ** 32 - 1);
  let seq = randomInt(0, 0x10000);
  let timestamp = start.timestamp ?? randomInt(0, 2 ** 31);
  const out = (packet: Buffer, to: { address: string; port: number }): Promise<void> =>
    new Promise((resolve, reject) => socket.send(packet, to.port, to.address, (e) => (e ? reject(e) : resolve())));
  return {
    address,
    port: socket.address().port,
    async send(to, digits, payloadType) {
      for (const digit of digits) {
        const event = EVENTS.indexOf(digit.toUpperCase());
        if (event < 0) throw new Error(`not a DTMF digit: ${digit}`);
        const start = timestamp;
        for (let ms = 0; ms < 100; ms += 20) {
          await out(
            telephoneEventPacket({ payloadType, marker: ms === 0, seq: seq++, timestamp: start, ssrc, event, end: false, durationSamples: (ms + 20) * 8 }),
            to,
          );
          await sleep(20);
        }
        // The end packet, three times with one sequence number (as phones and SIPp's captures do).
        const end = telephoneEventPacket({ payloadType, marker: false, seq: seq++, timestamp: start, ssrc, event, end: true, durationSamples: 800 });
        for (let i = 0; i < 3; i++) await out(end, to);
        timestamp = (timestamp + 800 + 480) >>> 0; // the key's 100 ms and the 60 ms pause
        await sleep(60);
      }
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}
