/**
 * One call's media on the hot-desk line: a UDP socket from the RTP port pool,
 * G.711 prompts sent as RTP, and DTMF received as RFC 4733 telephone-events.
 *
 * Sending (RFC 3550 §5.1, RFC 3551 §4.1, §4.5.14): {@link RtpSession.play}
 * cuts the samples into 20 ms frames of 160 samples (the last one padded with
 * silence) and sends one packet per frame on a deadline schedule: each send
 * time is the previous one plus 20 ms on a monotonic clock, so timer lateness
 * never accumulates into drift. After a stall (a busy event loop) at most
 * {@link RtpSessionOptions.maxCatchUp} late packets go out at once; the rest of
 * the prompt is then shifted later rather than burst or dropped. Sequence
 * numbers, timestamps and the SSRC start random (node:crypto) and continue
 * across prompts: a prompt that starts within one packet time of the
 * previous one's end continues its stream, any later one starts a talkspurt
 * (marker bit set, timestamp advanced by the silent time, as RFC 3550 §5.1
 * asks for audio not sent). Nothing is sent while idle, while the phone holds
 * the call, when the stream is disabled (port 0) or before the remote side is
 * known; a prompt still takes its time then, silently. {@link RtpSession.stop}
 * ends a prompt at once (barge-in: the caller stops the prompt when a digit
 * arrives).
 *
 * Receiving: packets are accepted only from the address the phone's SDP gave
 * (`c=`), from any port. The address check is what keeps other hosts from
 * injecting key presses (a PIN, a login) into a call: that address came
 * through the SIP signalling of the registered hot-desk line. The port is not
 * checked because a phone may send RTP from another port than the one it
 * receives on (symmetric RTP, RFC 4961, is common, not universal), and a port
 * check would add nothing against a host that can already spoof the phone's
 * address. Telephone-event packets of the negotiated payload type go to the
 * RFC 4733 receiver (rtp-dtmf.ts), which reports each key press once as a
 * `'dtmf'` event; everything else (the phone's own audio, other payload types,
 * garbage, strangers) is counted and dropped. Per-call state stays bounded
 * whatever a peer sends: no queues, only counters and the bounded DTMF state.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { encodeG711, MU_LAW_SILENCE, A_LAW_SILENCE } from '../../protocols/g711.js';
import { dtmfTimeoutAt, onDtmfPacket, onDtmfTimeout, startDtmfReceiver, type DtmfReceiverState } from '../../protocols/rtp-dtmf.js';
import { advanceRtpTimestamp, nextRtpPacket, parseRtpPacket, startRtpSender, type RtpSenderState } from '../../protocols/rtp-packet.js';
import type { NegotiatedMedia } from '../../protocols/sdp.js';
import type { RtpPortLease, RtpPortPool } from './rtp-port-pool.js';

/** Samples per packet: 20 ms at 8000 Hz. */
export const RTP_FRAME_SAMPLES = 160;
/** Packet interval in milliseconds. */
export const RTP_FRAME_MS = 20;

/** Tuning of an {@link RtpSession}. */
export interface RtpSessionOptions {
  /** DTMF: silence after which a key press whose end packets were lost is reported (default 400 ms). */
  readonly dtmfQuietMs?: number;
  /** Most late packets sent back to back after a stall (default 3). */
  readonly maxCatchUp?: number;
  /** Monotonic clock in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** Counters of one session (they only grow). */
export interface RtpSessionStats {
  /** RTP packets sent. */
  sent: number;
  /** Send errors reported by the socket. */
  sendErrors: number;
  /** Datagrams received, accepted or not. */
  received: number;
  /** Dropped: not from the negotiated address (or before it was known). */
  ignoredSource: number;
  /** Dropped: not an RTP packet. */
  ignoredMalformed: number;
  /** Dropped: another payload type than telephone-event (the phone's audio, comfort noise, …). */
  ignoredPayloadType: number;
  /** Telephone-event packets fed to the DTMF receiver. */
  dtmfPackets: number;
  /** Digits reported. */
  digits: number;
  /** Times the sender fell behind by more than `maxCatchUp` packets. */
  stalls: number;
}

/** How a {@link RtpSession.play} ended. */
export type PlayResult = 'done' | 'stopped';

interface Playback {
  readonly samples: Int16Array;
  readonly frames: number;
  index: number;
  readonly resolve: (r: PlayResult) => void;
}

/** IPv4-mapped IPv6 addresses (from a dual-stack socket) compare as their IPv4 form. */
function plainAddress(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** One call's RTP: see the module comment. Emits `'dtmf'` with each digit ('0'-'9', '*', '#', 'A'-'D'). */
export class RtpSession extends EventEmitter<{ dtmf: [digit: string] }> {
  readonly #stats: RtpSessionStats = {
    sent: 0,
    sendErrors: 0,
    received: 0,
    ignoredSource: 0,
    ignoredMalformed: 0,
    ignoredPayloadType: 0,
    dtmfPackets: 0,
    digits: 0,
    stalls: 0,
  };
  readonly #lease: RtpPortLease;
  readonly #now: () => number;
  readonly #maxCatchUp: number;
  #remote: NegotiatedMedia | null = null;
  #sender: RtpSenderState;
  #dtmf: DtmfReceiverState;
  #dtmfTimer: NodeJS.Timeout | null = null;
  #playback: Playback | null = null;
  #playTimer: NodeJS.Timeout | null = null;
  /** Send time of the next packet slot (ms, monotonic), or null before the first prompt. */
  #nextSlot: number | null = null;
  /** The next packet sent starts a talkspurt. */
  #marker = true;
  #closed = false;

  /** Opens a session on a port from `pool` (throws `busy` when the pool is exhausted). */
  static async open(pool: RtpPortPool, o: RtpSessionOptions = {}): Promise<RtpSession> {
    return new RtpSession(await pool.allocate(), o);
  }

  private constructor(lease: RtpPortLease, o: RtpSessionOptions) {
    super();
    this.#lease = lease;
    this.#now = o.now ?? (() => performance.now());
    this.#maxCatchUp = Math.max(1, o.maxCatchUp ?? 3);
    const r = randomBytes(10);
    this.#sender = startRtpSender({
      ssrc: r.readUInt32BE(0),
      seq: r.readUInt16BE(4),
      timestamp: r.readUInt32BE(6),
      payloadType: 0,
      samplesPerPacket: RTP_FRAME_SAMPLES,
    });
    this.#dtmf = startDtmfReceiver(o.dtmfQuietMs === undefined ? {} : { quietMs: o.dtmfQuietMs });
    lease.socket.on('message', (data, from) => this.#receive(data, from.address));
    lease.socket.on('error', () => {
      this.#stats.sendErrors++;
    });
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<RtpSessionStats> {
    return { ...this.#stats };
  }

  /** The local RTP port (for the SDP answer). */
  get port(): number {
    return this.#lease.port;
  }

  /** True while a prompt is playing. */
  get playing(): boolean {
    return this.#playback !== null;
  }

  /** Applies the negotiated media (again on every re-INVITE: codec, address, hold). */
  setRemote(media: NegotiatedMedia): void {
    this.#remote = media;
    this.#sender = { ...this.#sender, payloadType: media.payloadType & 0x7f };
  }

  /**
   * Plays 8000 Hz 16-bit samples as G.711 RTP, 20 ms per packet. Resolves
   * `'done'` when the audio's duration has elapsed, `'stopped'` if
   * {@link stop}, another `play` or {@link close} ended it first.
   */
  play(samples: Int16Array): Promise<PlayResult> {
    this.stop();
    if (this.#closed) return Promise.resolve('stopped');
    const now = this.#now();
    if (this.#nextSlot === null) {
      this.#nextSlot = now;
      this.#marker = true;
    } else if (now - this.#nextSlot >= RTP_FRAME_MS) {
      // Silence since the last packet: keep the 20 ms grid, let the timestamp follow the clock.
      const skipped = Math.floor((now - this.#nextSlot) / RTP_FRAME_MS);
      this.#sender = advanceRtpTimestamp(this.#sender, skipped * RTP_FRAME_SAMPLES);
      this.#nextSlot += skipped * RTP_FRAME_MS;
      this.#marker = true;
    }
    return new Promise<PlayResult>((resolve) => {
      this.#playback = { samples, frames: Math.ceil(samples.length / RTP_FRAME_SAMPLES), index: 0, resolve };
      this.#tick();
    });
  }

  /** Stops the current prompt at once (its `play` resolves `'stopped'`); nothing is sent until the next `play`. */
  stop(): void {
    const p = this.#playback;
    if (!p) return;
    this.#playback = null;
    if (this.#playTimer) clearTimeout(this.#playTimer);
    this.#playTimer = null;
    p.resolve('stopped');
  }

  /** Stops playback, forgets pending DTMF and releases the port. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    if (this.#dtmfTimer) clearTimeout(this.#dtmfTimer);
    this.#dtmfTimer = null;
    this.#lease.release();
    this.removeAllListeners();
  }

  /** Sends every packet that is due, then sleeps until the next one (or ends the prompt once its last 20 ms are over). */
  #tick(): void {
    this.#playTimer = null;
    const p = this.#playback;
    if (!p || this.#nextSlot === null) return;
    const now = this.#now();
    let burst = 0;
    // A slot less than 1 ms ahead counts as due: timers may fire that early.
    while (p.index < p.frames && this.#nextSlot <= now + 1 && burst < this.#maxCatchUp) {
      this.#sendFrame(p, p.index);
      p.index++;
      this.#nextSlot += RTP_FRAME_MS;
      burst++;
    }
    if (p.index < p.frames && this.#nextSlot <= now) {
      // Still behind after the catch-up burst: shift the rest of the prompt later.
      this.#stats.stalls++;
      this.#nextSlot = now + RTP_FRAME_MS;
    }
    if (p.index >= p.frames && this.#nextSlot <= now + 1) {
      this.#playback = null;
      p.resolve('done');
      return;
    }
    this.#playTimer = setTimeout(() => this.#tick(), Math.max(1, Math.ceil(this.#nextSlot - now)));
  }

  #sendFrame(p: Playback, index: number): void {
    const remote = this.#remote;
    const canSend = remote !== null && remote.remotePort !== 0 && !remote.onHold && isIP(remote.remoteAddress) !== 0;
    if (!canSend) {
      // On hold or not yet known: nothing goes out, the media clock still runs.
      this.#sender = advanceRtpTimestamp(this.#sender, RTP_FRAME_SAMPLES);
      this.#marker = true;
      return;
    }
    const frame = p.samples.subarray(index * RTP_FRAME_SAMPLES, (index + 1) * RTP_FRAME_SAMPLES);
    let payload = encodeG711(remote.codec, frame);
    if (payload.length < RTP_FRAME_SAMPLES) {
      const padded = new Uint8Array(RTP_FRAME_SAMPLES).fill(remote.codec === 'PCMU' ? MU_LAW_SILENCE : A_LAW_SILENCE);
      padded.set(payload);
      payload = padded;
    }
    const step = nextRtpPacket(this.#sender, payload, this.#marker);
    this.#sender = step.state;
    this.#marker = false;
    this.#lease.socket.send(step.packet, remote.remotePort, remote.remoteAddress, (e) => {
      if (e) this.#stats.sendErrors++;
    });
    this.#stats.sent++;
  }

  #receive(data: Buffer, from: string): void {
    this.#stats.received++;
    const remote = this.#remote;
    if (!remote || plainAddress(from) !== plainAddress(remote.remoteAddress)) {
      this.#stats.ignoredSource++;
      return;
    }
    const parsed = parseRtpPacket(data);
    if (!parsed.ok) {
      this.#stats.ignoredMalformed++;
      return;
    }
    if (remote.telephoneEvent === null || parsed.packet.payloadType !== remote.telephoneEvent) {
      this.#stats.ignoredPayloadType++;
      return;
    }
    this.#stats.dtmfPackets++;
    const step = onDtmfPacket(this.#dtmf, parsed.packet, this.#now());
    this.#dtmf = step.state;
    this.#armDtmfTimer();
    this.#emitDigits(step.digits);
  }

  #armDtmfTimer(): void {
    if (this.#dtmfTimer) clearTimeout(this.#dtmfTimer);
    this.#dtmfTimer = null;
    const at = dtmfTimeoutAt(this.#dtmf);
    if (at === null || this.#closed) return;
    this.#dtmfTimer = setTimeout(
      () => {
        this.#dtmfTimer = null;
        const step = onDtmfTimeout(this.#dtmf, this.#now());
        this.#dtmf = step.state;
        this.#armDtmfTimer();
        this.#emitDigits(step.digits);
      },
      Math.max(1, Math.ceil(at - this.#now())),
    );
  }

  #emitDigits(digits: readonly string[]): void {
    for (const d of digits) {
      this.#stats.digits++;
      this.emit('dtmf', d);
    }
  }
}
