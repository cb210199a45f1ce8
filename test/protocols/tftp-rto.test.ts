/**
 * Adaptive retransmission of the TFTP transfer machine, on an injected clock:
 * the RTO follows the measured round trip (RFC 6298 §2), Karn's rule (§3),
 * backoff and its reset (§5), duplicate ACKs never answered (RFC 1123
 * §4.2.3.1) and window retransmission from the first unacknowledged block
 * (RFC 7440 §4). The last tests drive whole transfers through a simulated
 * network (delays, losses, a seeded PRNG) and count what went on the wire.
 */
import { describe, expect, it } from 'vitest';
import { decodeTftpPacket } from '../../agent/protocols/tftp-packet.js';
import { createTransfer, onAck, onTimeout, sampleRtt, type TftpStep, type TftpTransferState } from '../../agent/protocols/tftp-transfer.js';
import { mulberry32 } from '../helpers/prng.js';

function dataBlocks(s: TftpStep): number[] {
  return s.send.map((b) => {
    const r = decodeTftpPacket(b);
    if (!r.ok || r.packet.op !== 'data') throw new Error('expected DATA');
    return r.packet.block;
  });
}
const file = (blocks: number, blksize = 512): Buffer => Buffer.alloc(blocks * blksize + 1, 7);

/** Lock-step: ACK each DATA `rtt` ms after it was sent, `n` times. Returns the state and the clock. */
function ackEach(first: TftpStep, now: number, rtt: number | ((i: number) => number), n: number): { s: TftpStep; now: number } {
  let s = first;
  let t = now;
  for (let i = 0; i < n; i++) {
    t += typeof rtt === 'number' ? rtt : rtt(i);
    s = onAck(s.state, s.state.sent & 0xffff, t);
  }
  return { s, now: t };
}

describe('tftp adaptive retransmission timeout', () => {
  it('uses timeoutMs until a round trip is measured, then RTO = SRTT + 4·RTTVAR converging to the measured RTT', () => {
    const first = createTransfer({ data: file(100), options: {}, now: 0 });
    expect(first.state.rtoMs).toBe(1000);
    expect(first.state.deadline).toBe(1000);
    // First sample R = 200: SRTT = 200, RTTVAR = 100, RTO = 600 (RFC 6298 §2.2).
    let { s, now } = ackEach(first, 0, 200, 1);
    expect(s.state.srttMs).toBe(200);
    expect(s.state.rttvarMs).toBe(100);
    expect(s.state.rtoMs).toBe(600);
    expect(s.state.deadline).toBe(now + 600);
    // A steady 200 ms: RTTVAR decays, the RTO comes down to just above the RTT.
    ({ s, now } = ackEach(s, now, 200, 40));
    expect(s.state.samples).toBe(41);
    expect(s.state.srttMs).toBeCloseTo(200, 6);
    expect(s.state.rtoMs).toBeGreaterThan(200);
    expect(s.state.rtoMs).toBeLessThan(205);
    expect(s.state.deadline).toBe(now + s.state.rtoMs);
    // Jitter (150/250 ms alternating) keeps the RTO above the largest round trip.
    ({ s, now } = ackEach(s, now, (i) => (i % 2 ? 150 : 250), 40));
    expect(s.state.srttMs).toBeGreaterThan(190);
    expect(s.state.srttMs).toBeLessThan(210);
    expect(s.state.rtoMs).toBeGreaterThan(250);
  });

  it('clamps the RTO to the floor (minTimeoutMs) and to the unmeasured timeout as ceiling', () => {
    const fast = ackEach(createTransfer({ data: file(50), options: {}, now: 0 }), 0, 1, 30).s;
    expect(fast.state.srttMs).toBeLessThan(2);
    expect(fast.state.rtoMs).toBe(5);
    const floor10 = ackEach(createTransfer({ data: file(50), options: {}, now: 0, limits: { minTimeoutMs: 10 } }), 0, 1, 30).s;
    expect(floor10.state.rtoMs).toBe(10);
    const slow = ackEach(createTransfer({ data: file(50), options: {}, now: 0 }), 0, 4000, 3).s;
    expect(slow.state.srttMs).toBe(4000);
    expect(slow.state.rtoMs).toBe(1000);
    // The client's RFC 2349 timeout raises the ceiling: a 3 s timeout lets a slow link's RTO reach 3 s.
    const asked = createTransfer({ data: file(50), options: { timeout: '3' }, now: 0 });
    const slowAsked = ackEach(onAck(asked.state, 0, 2000), 2000, 2000, 1).s;
    expect(slowAsked.state.rtoMs).toBe(3000);
    // A clock stepping back gives a 0 ms sample, not a negative one.
    expect(sampleRtt(first50().state, -500).srttMs).toBe(0);
  });

  it("Karn's rule: an ACK for a block the timer resent is not sampled; the next fresh window is", () => {
    let s = ackEach(createTransfer({ data: file(20), options: {}, now: 0 }), 0, 100, 1).s; // RTO 300 at t=100
    expect(s.state.rtoMs).toBe(300);
    const before = s.state;
    s = onTimeout(s.state, 400); // DATA 2 resent
    expect(dataBlocks(s)).toEqual([2]);
    // The ACK arrives 350 ms after the first send, 50 ms after the resend: ambiguous, no sample.
    s = onAck(s.state, 2, 450);
    expect(s.state.samples).toBe(before.samples);
    expect(s.state.srttMs).toBe(before.srttMs);
    expect(s.state.rtoMs).toBe(300);
    expect(dataBlocks(s)).toEqual([3]);
    // DATA 3 went out once: its ACK is a sample.
    s = onAck(s.state, 3, 460);
    expect(s.state.samples).toBe(before.samples + 1);
    expect(s.state.srttMs).toBeCloseTo(0.875 * 100 + 0.125 * 10, 6);
  });

  it("Karn's rule with windows: blocks sent again after a rollback are not sampled, the new ones are", () => {
    const first = createTransfer({ data: file(40), options: { windowsize: '4' }, now: 0 });
    let s = onAck(first.state, 0, 10); // ACK of the OACK (sent once): the first sample, 10; DATA 1..4 at t=10
    expect(s.state.samples).toBe(1);
    expect(s.state.srttMs).toBe(10);
    s = onAck(s.state, 2, 20); // 3 lost: block 2 was sent once, sample 10
    expect(s.state.samples).toBe(2);
    expect(dataBlocks(s)).toEqual([3, 4, 5, 6]); // from the first unacknowledged block
    expect(s.state.resent).toBe(2); // 3 and 4 went out a second time
    s = onAck(s.state, 4, 30); // 4 was sent twice: ambiguous
    expect(s.state.samples).toBe(2);
    // 5 and 6 are still in flight from the rollback: the window slides, only 7 and 8 are new.
    expect(dataBlocks(s)).toEqual([7, 8]);
    s = onAck(s.state, 8, 40); // 8 went out once, at t=30
    expect(s.state.samples).toBe(3);
    expect(s.state.srttMs).toBeCloseTo(10, 6);
  });

  it('backs off on consecutive timeouts (four quick resends, then the cap) and resets on progress', () => {
    let s = ackEach(createTransfer({ data: file(30), options: {}, now: 0 }), 0, 1, 20).s;
    expect(s.state.rtoMs).toBe(5);
    let now = 20;
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const at = s.state.deadline;
      waits.push(at - now);
      now = at;
      s = onTimeout(s.state, now);
      expect(dataBlocks(s)).toEqual([21]); // always the first unacknowledged block
    }
    // RTO, 2, 4 and 8·RTO, then straight to maxTimeoutMs (8 s): a client that lost an ACK and its
    // extra ACK (atftp) re-ACKs only after 5 s of silence, which a resend every 80, 160... ms would restart.
    expect(waits).toEqual([5, 10, 20, 40, 8000, 8000, 8000]);
    expect(s.state.retries).toBe(7);
    // Progress resets the backoff to the RTO (unchanged: that ACK is not sampled).
    s = onAck(s.state, 21, now + 5);
    expect(s.state.retries).toBe(0);
    expect(s.state.rtoMs).toBe(5);
    expect(s.state.deadline).toBe(now + 5 + 5);
    // Before the first ACK the fixed schedule stays: 1 s doubling (the first-ACK rule, 1/3/7 s).
    let u = createTransfer({ data: file(30), options: {}, now: 0 });
    const unstarted: number[] = [];
    for (let t = 0, i = 0; i < 3; i++) {
      unstarted.push(u.state.deadline - t);
      t = u.state.deadline;
      u = onTimeout(u.state, t);
    }
    expect(unstarted).toEqual([1000, 2000, 4000]);
  });

  it('a started transfer with a short RTO still waits out the whole stall budget before giving up', () => {
    // Defaults: the unmeasured schedule 1+2+4+8+8+8+8 s = 39 s; measured RTO 5 ms.
    let s = ackEach(createTransfer({ data: file(30), options: {}, now: 0 }), 0, 1, 5).s;
    expect(s.state.stallBudgetMs).toBe(39_000);
    const progressAt = 5;
    let now = progressAt;
    const sends: number[] = [];
    while (!s.failed) {
      now = s.state.deadline;
      s = onTimeout(s.state, now);
      if (s.send.length > 0) sends.push(now - progressAt);
    }
    expect(now).toBe(progressAt + 39_000);
    expect(s.state.failure).toBe('timeout');
    // Resends at 5, 15, 35 and 75 ms, then every 8 s: silences longer than atftp's 5 s timer, bounded.
    expect(sends).toEqual([5, 15, 35, 75, 8075, 16075, 24075, 32075]);
  });

  it("never answers a duplicate ACK (Sorcerer's Apprentice): a delayed DATA costs one resend, not one per block", () => {
    // A network with 5 ms each way (RTO 50 ms); DATA 10's first copy takes 60 ms, just past the
    // RTO, so the timer resends it and both copies arrive. The client ACKs every DATA it gets,
    // duplicates included (RFC 1350): the second ACK 10 reaches the server just after DATA 11
    // left. Answering it would send DATA 11 twice, then 12 twice, ... for the rest of the file.
    const r = simulate({ blocks: 60, windowsize: 1, delay: (dir, seq) => (dir === 'data' && seq === 10 ? 60 : 5) });
    expect(r.done).toBe(true);
    expect(r.duplicateAcks).toBeGreaterThan(0);
    expect(r.dataSent).toBe(60 + 1); // every block once, DATA 10 twice
    expect(r.state.resent).toBe(1);
  });

  it('with a window, a lost block is resent from the first unacknowledged block, once', () => {
    // windowsize 8; the first copy of block 13 is lost. The client acknowledges 12 at the end of the window.
    const r = simulate({ blocks: 40, windowsize: 8, lose: (dir, seq, copy) => dir === 'data' && seq === 13 && copy === 1 });
    expect(r.done).toBe(true);
    expect(r.windowStarts).toContain(13);
    expect(r.state.resent).toBeLessThanOrEqual(8); // 13..16 again at most once (one window)
  });

  it('after a resend, an ACK inside the window slides it: blocks still in flight are not sent a third time', () => {
    let s = onAck(createTransfer({ data: file(40), options: { windowsize: '4' }, now: 0 }).state, 0, 0);
    expect(dataBlocks(s)).toEqual([1, 2, 3, 4]);
    // 4 was lost: the client waits for the end of the window; the timer resends 1..4.
    s = onTimeout(s.state, s.state.deadline);
    expect(dataBlocks(s)).toEqual([1, 2, 3, 4]);
    const t = s.state.deadline - 10;
    // The resent 1 is a duplicate for the client, which ACKs what it has: 3. Block 4 is in
    // flight (the timer's copy): only the blocks never sent go out.
    s = onAck(s.state, 3, t);
    expect(dataBlocks(s)).toEqual([5, 6, 7]);
    expect(s.state.acked).toBe(3);
    expect(s.state.deadline).toBe(t + s.state.rtoMs);
    // Outside recovery (everything sent twice is acknowledged) an ACK inside the window rolls back again.
    s = onAck(s.state, 7, t + 1);
    expect(dataBlocks(s)).toEqual([8, 9, 10, 11]);
    s = onAck(s.state, 9, t + 2);
    expect(dataBlocks(s)).toEqual([10, 11, 12, 13]);
  });

  it('with windows and a client that ACKs duplicates (atftp), resent blocks stay near one window per loss', () => {
    for (const seed of [11, 12, 13]) {
      const rand = mulberry32(seed);
      const r = simulate({ blocks: 735, blksize: 1428, windowsize: 8, delay: () => 1, lose: () => rand() < 0.03 });
      expect(r.done).toBe(true);
      expect(r.lost).toBeGreaterThan(10);
      // A lost block costs the rest of its window (up to 7 blocks) once; a rollback on every
      // duplicate-triggered ACK would keep resending overlapping windows (about 8 or more per loss).
      expect(r.state.resent).toBeLessThanOrEqual(6 * r.lost);
    }
  });

  it('through 3 % random loss both ways a 1 MiB transfer completes with about one resend per loss', () => {
    for (const seed of [1, 2, 3]) {
      const rand = mulberry32(seed);
      const r = simulate({ blocks: 735, blksize: 1428, windowsize: 1, delay: () => 1, lose: () => rand() < 0.03 });
      expect(r.done).toBe(true);
      expect(r.lost).toBeGreaterThan(20);
      // Each loss (DATA, ACK) is repaired by one timer resend; a resend lost too needs another.
      expect(r.state.resent).toBeLessThanOrEqual(r.lost + 5);
      // The measured RTO (2 ms round trips here: SRTT + 1 ms) is at the 5 ms floor, not the 1 s default.
      expect(r.state.rtoMs).toBe(5);
    }
  });
});

function first50(): TftpStep {
  return createTransfer({ data: file(2), options: {}, now: 0 });
}

interface SimOptions {
  blocks: number;
  blksize?: number;
  windowsize: number;
  /** One-way delay of the seq-th datagram of each direction (1-based), ms. */
  delay?: (dir: 'data' | 'ack', seq: number) => number;
  /** Whether that datagram is lost; `copy` counts the sends of the same block. */
  lose?: (dir: 'data' | 'ack', block: number, copy: number) => boolean;
}

/**
 * A discrete-event run of one transfer: the machine on one side, on the other
 * an RFC 1350/7440 client that ACKs the last in-order block at the end of each
 * window, after a gap (once per gap) and for every duplicate.
 */
function simulate(o: SimOptions): { done: boolean; state: TftpTransferState; dataSent: number; duplicateAcks: number; lost: number; windowStarts: number[] } {
  const blksize = o.blksize ?? 512;
  const options: Record<string, string> = { blksize: String(blksize) };
  if (o.windowsize > 1) options['windowsize'] = String(o.windowsize);
  type Ev = { at: number; order: number; kind: 'data' | 'ack' | 'timer'; block: number };
  const events: Ev[] = [];
  let order = 0;
  const push = (e: Omit<Ev, 'order'>): void => {
    events.push({ ...e, order: order++ });
    events.sort((a, b) => a.at - b.at || a.order - b.order);
  };
  const delay = o.delay ?? (() => 1);
  const lose = o.lose ?? (() => false);
  const copies = new Map<number, number>();
  let seq = { data: 0, ack: 0 };
  let dataSent = 0;
  let duplicateAcks = 0;
  let lost = 0;
  const windowStarts: number[] = [];
  // client
  let expected = 1;
  let inWindow = 0;
  let gapAcked = false;
  const sendAck = (now: number, block: number): void => {
    seq = { ...seq, ack: seq.ack + 1 };
    if (lose('ack', block, 1)) return void lost++;
    push({ at: now + delay('ack', seq.ack), kind: 'ack', block });
  };
  let step: TftpStep = createTransfer({ data: Buffer.alloc(o.blocks * blksize - 1, 1), options, now: 0 });
  const server = (now: number, s: TftpStep): void => {
    step = s;
    let firstOfSend = true;
    for (const b of s.send) {
      const r = decodeTftpPacket(b);
      if (!r.ok) throw new Error('bad packet');
      if (r.packet.op === 'oack') {
        push({ at: now + 1, kind: 'data', block: 0 }); // the OACK, never lost here
        continue;
      }
      if (r.packet.op !== 'data') continue;
      const block = r.packet.block;
      if (firstOfSend) windowStarts.push(block);
      firstOfSend = false;
      dataSent++;
      seq = { ...seq, data: seq.data + 1 };
      const copy = (copies.get(block) ?? 0) + 1;
      copies.set(block, copy);
      if (lose('data', block, copy)) {
        lost++;
        continue;
      }
      push({ at: now + delay('data', seq.data), kind: 'data', block });
    }
    if (!s.done && !s.failed) push({ at: s.state.deadline, kind: 'timer', block: -1 });
  };
  server(0, step);
  for (let guard = 0; events.length > 0 && guard < 1_000_000; guard++) {
    const e = events.shift()!;
    if (step.done || step.failed) break;
    if (e.kind === 'timer') {
      if (e.at === step.state.deadline) server(e.at, onTimeout(step.state, e.at));
    } else if (e.kind === 'ack') {
      const next = onAck(step.state, e.block, e.at);
      if (next.state === step.state) continue; // ignored: nothing to re-arm
      server(e.at, next);
    } else if (e.block === 0) {
      sendAck(e.at, 0); // OACK
    } else if (e.block === (expected & 0xffff)) {
      expected++;
      inWindow++;
      gapAcked = false;
      const last = e.block === (o.blocks & 0xffff);
      if (last || inWindow >= o.windowsize) {
        inWindow = 0;
        sendAck(e.at, e.block);
      }
    } else if (((e.block - expected) & 0xffff) > 0x8000) {
      duplicateAcks++;
      sendAck(e.at, (expected - 1) & 0xffff); // a duplicate: ACK the last in-order block again (RFC 1350; atftp with windows)
    } else if (!gapAcked) {
      gapAcked = true;
      inWindow = 0;
      sendAck(e.at, (expected - 1) & 0xffff); // a gap: ask from the first missing block, once
    }
  }
  return { done: step.done, state: step.state, dataSent, duplicateAcks, lost, windowStarts };
}
