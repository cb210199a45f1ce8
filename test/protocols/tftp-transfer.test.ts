import { describe, expect, it } from 'vitest';
import { decodeTftpPacket, type TftpPacket } from '../../agent/protocols/tftp-packet.js';
import { abortTransfer, createTransfer, onAck, onRequestRepeated, onTimeout, type TftpStep } from '../../agent/protocols/tftp-transfer.js';

function decode(b: Buffer): TftpPacket {
  const r = decodeTftpPacket(b);
  if (!r.ok) throw new Error(r.reason);
  return r.packet;
}
function blocks(s: TftpStep): { block: number; len: number }[] {
  return s.send.map((b) => {
    const p = decode(b);
    if (p.op !== 'data') throw new Error(`expected DATA, got ${p.op}`);
    return { block: p.block, len: p.data.length };
  });
}
function patterned(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

/** Drives a transfer like a loss-free client: ACK the last block of every window. Returns the received bytes. */
function drive(first: TftpStep, now = 0): { bytes: Buffer; wireBlocks: number[]; steps: number } {
  let s = first;
  if (s.state.phase === 'oack') s = onAck(s.state, 0, now);
  const parts: Buffer[] = [];
  const wireBlocks: number[] = [];
  let steps = 0;
  while (!s.done) {
    expect(s.failed).toBe(false);
    let last = -1;
    for (const b of s.send) {
      const p = decode(b);
      if (p.op !== 'data') throw new Error('expected DATA');
      parts.push(p.data);
      wireBlocks.push(p.block);
      last = p.block;
    }
    s = onAck(s.state, last, now);
    steps++;
  }
  expect(s.send).toEqual([]);
  return { bytes: Buffer.concat(parts), wireBlocks, steps };
}

describe('tftp transfer state machine', () => {
  it('without options sends DATA 1 at once in 512-byte lock-step and ends on a short block', () => {
    const data = patterned(1300);
    const s = createTransfer({ data, options: {}, now: 0 });
    expect(s.state.phase).toBe('data');
    expect(s.state.oack).toBeNull();
    expect(blocks(s)).toEqual([{ block: 1, len: 512 }]);
    const s2 = onAck(s.state, 1, 1);
    expect(blocks(s2)).toEqual([{ block: 2, len: 512 }]);
    const s3 = onAck(s2.state, 2, 2);
    expect(blocks(s3)).toEqual([{ block: 3, len: 276 }]);
    const s4 = onAck(s3.state, 3, 3);
    expect(s4.done).toBe(true);
    expect(s4.send).toEqual([]);
    expect(drive(createTransfer({ data, options: {}, now: 0 })).bytes.equals(data)).toBe(true);
  });

  it('sends a final zero-length block when the size is a multiple of blksize, and one empty block for an empty file', () => {
    const r = drive(createTransfer({ data: patterned(1024), options: {}, now: 0 }));
    expect(r.wireBlocks).toEqual([1, 2, 3]);
    expect(r.bytes.length).toBe(1024);
    const s = createTransfer({ data: Buffer.alloc(0), options: {}, now: 0 });
    expect(blocks(s)).toEqual([{ block: 1, len: 0 }]);
    expect(onAck(s.state, 1, 0).done).toBe(true);
  });

  it('negotiates options with an OACK and waits for ACK 0', () => {
    const data = patterned(5000);
    const s = createTransfer({ data, options: { blksize: '1428', tsize: '0', windowsize: '8', timeout: '3', multicast: '' }, now: 100 });
    expect(s.state.phase).toBe('oack');
    expect(s.send.map(decode)).toEqual([{ op: 'oack', options: { blksize: '1428', tsize: '5000', windowsize: '8', timeout: '3' } }]);
    expect(s.state.timeoutMs).toBe(3000);
    expect(s.state.deadline).toBe(8100); // the timer never resends an OACK: its only deadline is the first ACK's
    // An ACK other than 0 while waiting for the OACK's ACK changes nothing.
    const ignored = onAck(s.state, 1, 200);
    expect(ignored.send).toEqual([]);
    expect(ignored.state).toBe(s.state);
    const go = onAck(s.state, 0, 200);
    expect(blocks(go)).toEqual([
      { block: 1, len: 1428 },
      { block: 2, len: 1428 },
      { block: 3, len: 1428 },
      { block: 4, len: 716 },
    ]);
    expect(drive(createTransfer({ data, options: { blksize: '1428', windowsize: '8' }, now: 0 })).bytes.equals(data)).toBe(true);
  });

  it('clamps blksize and windowsize to the server limits', () => {
    const s = createTransfer({ data: patterned(10), options: { blksize: '9000', windowsize: '500' }, now: 0 });
    expect(decode(s.send[0]!)).toEqual({ op: 'oack', options: { blksize: '1468', windowsize: '64' } });
    const big = createTransfer({ data: patterned(10), options: { blksize: '65464' }, now: 0, limits: { maxBlksize: 100000 } });
    expect(big.state.blksize).toBe(65464);
    const small = createTransfer({ data: patterned(10), options: { blksize: '8' }, now: 0 });
    expect(small.state.blksize).toBe(8);
  });

  it('skips the OACK when no requested option is acceptable', () => {
    const s = createTransfer({ data: patterned(10), options: { blksize: '4', foo: 'bar', tsize: 'enable' }, now: 0 });
    expect(s.state.oack).toBeNull();
    expect(blocks(s)).toEqual([{ block: 1, len: 10 }]);
  });

  it("ignores duplicate and stale ACKs without resending (no Sorcerer's Apprentice)", () => {
    const s1 = createTransfer({ data: patterned(2000), options: {}, now: 0 });
    const s2 = onAck(s1.state, 1, 10);
    expect(blocks(s2)).toEqual([{ block: 2, len: 512 }]);
    const dup = onAck(s2.state, 1, 20);
    expect(dup.send).toEqual([]);
    expect(dup.state).toBe(s2.state);
    const stale = onAck(s2.state, 0, 20);
    expect(stale.send).toEqual([]);
    // A future block number (never sent) maps below the window: ignored too.
    expect(onAck(s2.state, 9, 20).send).toEqual([]);
    expect(blocks(onAck(s2.state, 2, 30))).toEqual([{ block: 3, len: 512 }]);
  });

  it('rolls the window back to the block after a lower ACK (RFC 7440)', () => {
    const data = patterned(512 * 20 + 5);
    let s = onAck(createTransfer({ data, options: { windowsize: '4' }, now: 0 }).state, 0, 0);
    expect(blocks(s).map((b) => b.block)).toEqual([1, 2, 3, 4]);
    s = onAck(s.state, 2, 1); // blocks 3 and 4 lost
    expect(blocks(s).map((b) => b.block)).toEqual([3, 4, 5, 6]);
    expect(s.state.acked).toBe(2);
    s = onAck(s.state, 6, 2);
    expect(blocks(s).map((b) => b.block)).toEqual([7, 8, 9, 10]);
    const dup = onAck(s.state, 6, 3);
    expect(dup.send).toEqual([]);
  });

  it('resends the outstanding window on timeout with doubling waits and fails after maxRetries', () => {
    const data = patterned(5000);
    const limits = { timeoutMs: 100, maxTimeoutMs: 300, maxRetries: 3, minTimeoutMs: 100 };
    let s = onAck(createTransfer({ data, options: { windowsize: '3' }, now: 0, limits }).state, 0, 0);
    expect(s.state.deadline).toBe(100);
    s = onAck(s.state, 1, 50); // partial progress: window restarts at 2
    expect(blocks(s).map((b) => b.block)).toEqual([2, 3, 4]);
    expect(s.state.deadline).toBe(150);
    const early = onTimeout(s.state, 149);
    expect(early.send).toEqual([]);
    expect(early.state).toBe(s.state);
    s = onTimeout(s.state, 150);
    expect(blocks(s).map((b) => b.block)).toEqual([2, 3, 4]);
    expect(s.state.retries).toBe(1);
    expect(s.state.deadline).toBe(350); // 200 ms
    s = onTimeout(s.state, 350);
    expect(s.state.retries).toBe(2);
    expect(s.state.deadline).toBe(650); // 400 capped to 300 ms
    s = onTimeout(s.state, 650);
    expect(s.state.retries).toBe(3);
    const dead = onTimeout(s.state, 950);
    expect(dead.failed).toBe(true);
    expect(dead.send).toEqual([]);
    expect(dead.state.failure).toBe('timeout');
    // Progress resets the retry count and the wait.
    const revived = onAck(s.state, 4, 900);
    expect(revived.state.retries).toBe(0);
    expect(revived.state.deadline).toBe(1000);
    expect(blocks(revived).map((b) => b.block)).toEqual([5, 6, 7]);
  });

  it('resends the OACK when the client repeats its request, never on the timer (atftp aborts on a second OACK)', () => {
    const s = createTransfer({ data: patterned(10), options: { tsize: '0' }, now: 0, limits: { timeoutMs: 100, firstAckTimeoutMs: 1000 } });
    expect(s.state.deadline).toBe(1000);
    expect(onTimeout(s.state, 999).send).toEqual([]);
    // The client timed out without the OACK and sent its RRQ again: one OACK per repeat.
    const again = onRequestRepeated(s.state, 300);
    expect(again.send.map(decode)).toEqual([{ op: 'oack', options: { tsize: '10' } }]);
    expect(again.state.resent).toBe(1);
    expect(onRequestRepeated(again.state, 310).send.map(decode)).toEqual([{ op: 'oack', options: { tsize: '10' } }]);
    // Karn: ACK 0 after an OACK sent twice is no round-trip sample; one sent once is.
    const go = onAck(again.state, 0, 320);
    expect(go.state.samples).toBe(0);
    expect(blocks(go)).toEqual([{ block: 1, len: 10 }]);
    expect(onAck(s.state, 0, 40).state.srttMs).toBe(40);
    // Once DATA flows a repeated request changes nothing: the timer resends DATA.
    const dataPhase = onRequestRepeated(go.state, 330);
    expect(dataPhase.send).toEqual([]);
    expect(dataPhase.state).toBe(go.state);
    // Never acknowledged: the transfer fails at the first-ACK deadline, having sent nothing more.
    const dead = onTimeout(again.state, 1000);
    expect(dead.send).toEqual([]);
    expect(dead.state.failure).toBe('no first ack');
  });

  it('gives a transfer that never got its first ACK a much shorter life than one in progress', () => {
    const limits = { timeoutMs: 1000, maxTimeoutMs: 8000, maxRetries: 6, firstAckTimeoutMs: 8000 };
    const data = patterned(5000);
    // Never started: resends at 1 s, 3 s, 7 s, then fails at the 8 s first-ACK deadline.
    let s = createTransfer({ data, options: {}, now: 0, limits });
    expect(s.state.started).toBe(false);
    const sends: number[] = [0];
    let now = 0;
    while (!s.failed) {
      now = s.state.deadline;
      s = onTimeout(s.state, now);
      if (s.send.length > 0) sends.push(now);
    }
    expect(sends).toEqual([0, 1000, 3000, 7000]);
    expect(now).toBe(8000);
    expect(s.state.failure).toBe('no first ack');
    // Started (ACK 1 received): the same silence runs the full backoff, about 40 s, and fails on retries.
    let t = onAck(createTransfer({ data, options: {}, now: 0, limits }).state, 1, 10);
    expect(t.state.started).toBe(true);
    now = 10;
    while (!t.failed) {
      now = t.state.deadline;
      t = onTimeout(t.state, now);
    }
    expect(now).toBe(10 + 1000 + 2000 + 4000 + 8000 * 4);
    expect(t.state.failure).toBe('timeout');
  });

  it('counts ACK 0 of the OACK as the first ACK, and ignores a wrong or early ACK for it', () => {
    const limits = { timeoutMs: 1000, firstAckTimeoutMs: 2500 };
    const s = createTransfer({ data: patterned(3000), options: { blksize: '1024' }, now: 0, limits });
    expect(s.state.phase).toBe('oack');
    expect(s.state.deadline).toBe(2500);
    const stray = onAck(s.state, 5, 10);
    expect(stray.state.started).toBe(false);
    const early = onTimeout(stray.state, 1000);
    expect(early.send).toEqual([]);
    expect(early.state).toBe(stray.state);
    expect(onTimeout(stray.state, 2500).state.failure).toBe('no first ack');
    const started = onAck(stray.state, 0, 2400);
    expect(started.state.started).toBe(true);
    expect(blocks(started)).toEqual([{ block: 1, len: 1024 }]);
    expect(started.state.deadline).toBe(3400);
    expect(onTimeout(started.state, 3400).failed).toBe(false);
  });

  it('wraps block numbers past 65535 to 0 in lock-step', () => {
    const data = patterned(8 * 65540 + 3); // 65541 blocks of 8 bytes
    const r = drive(createTransfer({ data, options: { blksize: '8' }, now: 0 }));
    expect(r.bytes.equals(data)).toBe(true);
    expect(r.wireBlocks.length).toBe(65541);
    expect(r.wireBlocks.slice(65533, 65541)).toEqual([65534, 65535, 0, 1, 2, 3, 4, 5]);
  });

  it('maps ACKs across the wrap inside a window, including rollback', () => {
    const data = patterned(8 * 65600);
    let s = onAck(createTransfer({ data, options: { blksize: '8', windowsize: '16' }, now: 0 }).state, 0, 0);
    // Fast-forward the loss-free way to just before the wrap.
    while (s.state.sent < 65520) s = onAck(s.state, s.state.sent & 0xffff, 0);
    expect(s.state.sent).toBe(65520); // windows of 16 starting at 1
    s = onAck(s.state, 65512, 0); // rollback: the last 8 of that window were lost
    expect(blocks(s).map((b) => b.block)).toEqual([
      65513, 65514, 65515, 65516, 65517, 65518, 65519, 65520, 65521, 65522, 65523, 65524, 65525, 65526, 65527, 65528,
    ]);
    s = onAck(s.state, 65528, 0);
    expect(blocks(s).map((b) => b.block)).toEqual([65529, 65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Client lost wire block 1 (absolute 65537): ACKs wire 0 (absolute 65536).
    s = onAck(s.state, 0, 1);
    expect(s.state.acked).toBe(65536);
    expect(blocks(s).map((b) => b.block)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    // A late duplicate of ACK 65535 (before the wrap) is stale.
    expect(onAck(s.state, 65535, 2).send).toEqual([]);
    const rest = drive(s);
    expect(rest.bytes.length).toBe(data.length - 65536 * 8);
  });

  it('abort fails a running transfer and leaves a finished one alone', () => {
    const s = createTransfer({ data: patterned(10), options: {}, now: 0 });
    const a = abortTransfer(s.state, 'client error 0');
    expect(a.failed).toBe(true);
    expect(a.state.failure).toBe('client error 0');
    const done = onAck(s.state, 1, 0);
    expect(abortTransfer(done.state, 'x').done).toBe(true);
    expect(onAck(done.state, 1, 0).send).toEqual([]);
    expect(onTimeout(done.state, 1e9).send).toEqual([]);
  });
});
