/**
 * DTMF over RTP: the RFC 4733 `telephone-event` payload (§2.3) and a pure
 * receiver that turns a stream of event packets into digits, each exactly
 * once.
 *
 * How a phone sends one key press (RFC 4733 §2.5.1): every packet of one event
 * carries the same RTP timestamp, the event's start, so the timestamp
 * identifies the event (§2.5.1.2, §2.5.1.3); updates follow while the key is
 * held (about every 50 ms), with a growing duration; the last packet has the
 * E bit and is usually sent three times (§2.5.1.4). So the receiver here:
 * - reports a digit when its first E packet arrives, and ignores the repeats;
 * - reports a digit whose E packets were all lost once, when a packet with a
 *   new timestamp arrives or when the caller says the stream has been quiet
 *   for `quietMs` ({@link onDtmfTimeout}, to be called at {@link dtmfTimeoutAt};
 *   the receiver's "soft state", §2.5.2.5);
 * - never reports an event again once reported: late or reordered packets of
 *   a recent event (the last {@link DTMF_REMEMBERED} timestamps) are ignored;
 * - treats a new segment of a long event (§2.5.1.3: the duration field is
 *   full, the sender goes on with a new timestamp) as the same key press.
 * Events 0-9 are '0'-'9', 10 '*', 11 '#', 12-15 'A'-'D' (§3.2, table 3);
 * other events (flash, tones) are ignored. Only the first 4-byte event block
 * of a packet is read (phones send one event per packet; §2.5.1.5 packing of
 * several events is not decoded). State size is bounded whatever is received.
 *
 * Pure module: no I/O; time comes in as `now` (milliseconds, monotonic).
 */

/** Digits of events 0-15 (RFC 4733 §3.2, table 3). */
export const DTMF_DIGITS = '0123456789*#ABCD';
/** How many reported event timestamps the receiver remembers to drop late packets. */
export const DTMF_REMEMBERED = 16;
/** Default quiet time after which an event without E bit is taken as ended (a held key sends every ~50 ms, §2.5.1.2). */
export const DTMF_DEFAULT_QUIET_MS = 400;

/** A segment whose duration reached this is "full": a same-event packet with a new timestamp continues it (§2.5.1.3). */
const LONG_SEGMENT_MIN = 0xffff - 8000;

/** One decoded telephone-event block (RFC 4733 §2.3). */
export interface TelephoneEvent {
  /** Event code 0-255 (0-15: DTMF). */
  readonly event: number;
  /** E bit: this packet reports the end of the event. */
  readonly end: boolean;
  /** Power level 0-63 in -dBm0 (0 is loudest). */
  readonly volume: number;
  /** Duration so far, in timestamp units (samples at 8000 Hz), 0-65535. */
  readonly duration: number;
}

/** Decodes the first event block of a telephone-event payload. Never throws. */
export function decodeTelephoneEvent(
  payload: Uint8Array,
): { readonly ok: true; readonly event: TelephoneEvent } | { readonly ok: false; readonly error: string } {
  if (payload.length < 4) return { ok: false, error: `telephone-event payload of ${payload.length} bytes, expected 4` };
  const b1 = payload[1] ?? 0;
  return {
    ok: true,
    event: { event: payload[0] ?? 0, end: (b1 & 0x80) !== 0, volume: b1 & 0x3f, duration: ((payload[2] ?? 0) << 8) | (payload[3] ?? 0) },
  };
}

/** Encodes one telephone-event block (R bit zero; fields reduced to their widths). */
export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  const duration = Math.max(0, Math.min(0xffff, Math.trunc(e.duration)));
  return Uint8Array.of(e.event & 0xff, (e.end ? 0x80 : 0) | (e.volume & 0x3f), duration >> 8, duration & 0xff);
}

/** The DTMF digit of an event code, or null for non-DTMF events. */
export function dtmfDigitOfEvent(event: number): string | null {
  return Number.isInteger(event) && event >= 0 && event < 16 ? (DTMF_DIGITS[event] ?? null) : null;
}

/** The event code of a DTMF digit (`0-9 * # A-D`, case-insensitive), or null. */
export function eventOfDtmfDigit(digit: string): number | null {
  const i = digit.length === 1 ? DTMF_DIGITS.indexOf(digit.toUpperCase()) : -1;
  return i < 0 ? null : i;
}

/** The event being received and not yet reported. */
interface PendingEvent {
  readonly timestamp: number;
  readonly event: number;
  /** Largest duration seen. */
  readonly duration: number;
  readonly lastSeenMs: number;
}

/** State of one RFC 4733 receiver. Immutable. */
export interface DtmfReceiverState {
  readonly quietMs: number;
  readonly pending: PendingEvent | null;
  /** Timestamps of the latest reported (or superseded) events, oldest first, at most {@link DTMF_REMEMBERED}. */
  readonly done: readonly number[];
  /**
   * SSRC of the stream the events came from (null before the first). Timestamps only identify
   * an event within one source: a sender that starts a new source (RFC 3550 §8, e.g. a new SSRC
   * per key press) may repeat timestamps an earlier source used.
   */
  readonly ssrc: number | null;
}

/** What a step of the receiver produced: the new state and the digits to report, in order. */
export interface DtmfStep {
  readonly state: DtmfReceiverState;
  readonly digits: readonly string[];
}

/** A fresh receiver; `quietMs` (default {@link DTMF_DEFAULT_QUIET_MS}) is the silence that ends an event whose E packets were lost. */
export function startDtmfReceiver(o: { quietMs?: number } = {}): DtmfReceiverState {
  return { quietMs: o.quietMs ?? DTMF_DEFAULT_QUIET_MS, pending: null, done: [], ssrc: null };
}

function remember(done: readonly number[], timestamp: number): readonly number[] {
  const next = [...done, timestamp];
  return next.length > DTMF_REMEMBERED ? next.slice(next.length - DTMF_REMEMBERED) : next;
}

/** Reports the pending event (if any) and forgets it. */
function flush(state: DtmfReceiverState, digits: string[]): DtmfReceiverState {
  const p = state.pending;
  if (!p) return state;
  digits.push(dtmfDigitOfEvent(p.event) ?? '');
  return { ...state, pending: null, done: remember(state.done, p.timestamp) };
}

/**
 * Feeds one telephone-event packet: its RTP timestamp and payload, received at
 * `now`. Packets that do not decode, carry a non-DTMF event, or belong to an
 * event already reported change nothing.
 */
export function onDtmfPacket(
  state: DtmfReceiverState,
  packet: { readonly timestamp: number; readonly payload: Uint8Array; readonly ssrc?: number },
  now: number,
): DtmfStep {
  const decoded = decodeTelephoneEvent(packet.payload);
  if (!decoded.ok || dtmfDigitOfEvent(decoded.event.event) === null) return { state, digits: [] };
  const e = decoded.event;
  const timestamp = packet.timestamp >>> 0;
  const digits: string[] = [];
  let s = state;
  const ssrc = packet.ssrc === undefined ? state.ssrc : packet.ssrc >>> 0;
  if (ssrc !== state.ssrc) {
    // A new source: whatever the old one was sending has ended; its timestamps mean nothing here.
    s = flush(s, digits);
    s = { ...s, done: [], ssrc };
  }
  if (s.done.includes(timestamp)) return { state: s, digits };
  const p = s.pending;
  if (p && p.timestamp === timestamp) {
    if (p.event !== e.event) return { state, digits: [] }; // one timestamp, one event: a conflicting packet is noise
    s = { ...s, pending: { ...p, duration: Math.max(p.duration, e.duration), lastSeenMs: now } };
  } else if (p && p.event === e.event && p.duration >= LONG_SEGMENT_MIN) {
    // A new segment of a long key press: same event, the old segment full and never ended.
    s = { ...s, pending: { timestamp, event: e.event, duration: e.duration, lastSeenMs: now }, done: remember(s.done, p.timestamp) };
  } else {
    s = flush(s, digits); // a new event: the old one ended even if its E packets were lost
    s = { ...s, pending: { timestamp, event: e.event, duration: e.duration, lastSeenMs: now } };
  }
  if (e.end) s = flush(s, digits);
  return { state: s, digits };
}

/** When the pending event, if any, will count as ended for lack of packets (ms, same clock as `now`). */
export function dtmfTimeoutAt(state: DtmfReceiverState): number | null {
  return state.pending ? state.pending.lastSeenMs + state.quietMs : null;
}

/** Reports the pending event if no packet of it arrived for `quietMs` before `now`. */
export function onDtmfTimeout(state: DtmfReceiverState, now: number): DtmfStep {
  const at = dtmfTimeoutAt(state);
  if (at === null || now < at) return { state, digits: [] };
  const digits: string[] = [];
  return { state: flush(state, digits), digits };
}
