/**
 * The TFTP transfer timer on Node's real timers and a real UDP socket: it
 * fires once the deadline has passed, not before; a deadline moved later
 * does not re-arm it on every step; and after this process was busy past the
 * deadline, a datagram that arrived meanwhile (an ACK moving the deadline) is
 * read before the timer decides, so the busy spell is not taken for a loss.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { TransferTimer } from '../../../agent/shell/tftp/transfer-timer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tftp transfer timer', () => {
  it('fires once after the deadline, follows a deadline moved later, and stops when cancelled or ended', async () => {
    let deadline: number | null = Date.now() + 30;
    const fired: number[] = [];
    const timer = new TransferTimer(
      () => deadline,
      Date.now,
      () => fired.push(Date.now()),
    );
    timer.arm();
    deadline += 40; // progress: later, no re-arm needed
    timer.arm();
    await sleep(45);
    expect(fired).toEqual([]); // the first expiry found the deadline moved and waited on
    await sleep(60);
    expect(fired.length).toBe(1);
    expect(fired[0]!).toBeGreaterThanOrEqual(deadline - 1);
    // An earlier deadline re-arms at once.
    deadline = Date.now() + 500;
    timer.arm();
    deadline = Date.now() + 10;
    timer.arm();
    await sleep(60);
    expect(fired.length).toBe(2);
    deadline = Date.now() + 10;
    timer.arm();
    timer.cancel();
    await sleep(40);
    expect(fired.length).toBe(2);
    deadline = Date.now() + 10;
    timer.arm();
    deadline = null; // the transfer ended
    await sleep(40);
    expect(fired.length).toBe(2);
  });

  it('reads a datagram that arrived while the process was busy before deciding a due timer', async () => {
    const rx = dgram.createSocket('udp4');
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    let deadline = Date.now() + 20;
    let fired = 0;
    const timer = new TransferTimer(
      () => deadline,
      Date.now,
      () => fired++,
    );
    rx.on('message', () => {
      deadline = Date.now() + 1000; // the ACK: progress moves the deadline on
      timer.arm();
    });
    timer.arm();
    tx.send(Buffer.from([0, 4, 0, 1]), rx.address().port, '127.0.0.1');
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // busy past the deadline: the ACK waits in the socket, the timer is due
    }
    await sleep(100);
    expect(fired).toBe(0);
    timer.cancel();
    rx.close();
    tx.close();
  });
});
