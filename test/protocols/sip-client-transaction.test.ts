import { describe, expect, it } from 'vitest';
import {
  onClientResponse,
  onClientTimer,
  sipTimers,
  startClientTransaction,
  type ClientTransactionStep,
  type SipTimerSettings,
} from '../../agent/protocols/sip-client-transaction.js';

/**
 * Drives a transaction with an injected clock: wakes exactly when the machine
 * asks until `until` (or the end), and returns the times at which a datagram
 * went out and the last step.
 */
function run(timers: Partial<SipTimerSettings>, until = Number.POSITIVE_INFINITY, at0 = 1_000): { sends: number[]; last: ClientTransactionStep } {
  let s = startClientTransaction(at0, timers);
  const sends = [at0];
  while (s.wakeAt !== null && s.wakeAt <= until) {
    const now = s.wakeAt;
    s = onClientTimer(s.state, now);
    if (s.transmit) sends.push(now);
  }
  return { sends: sends.map((t) => t - at0), last: s };
}

describe('non-INVITE client transaction (RFC 3261 §17.1.2.2)', () => {
  it('retransmits on timer E at T1, 2*T1, 4*T1... capped at T2, and times out at timer F', () => {
    const { sends, last } = run({ t1Ms: 500, t2Ms: 4000 });
    // Fire times: 0, then intervals 500, 1000, 2000, 4000, 4000, ... until 64*T1 = 32 s.
    expect(sends).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(last.event).toBe('timeout');
    expect(last.state.phase).toBe('timed-out');
    expect(last.state.sent).toBe(11);
    expect(last.wakeAt).toBeNull();
    expect(last.transmit).toBe(false);
  });

  it('defaults to the RFC values (T1 500 ms, T2 4 s, timer F 64*T1)', () => {
    expect(sipTimers()).toMatchObject({ t1Ms: 500, t2Ms: 4000, timeoutMs: 32_000 });
    expect(sipTimers({ t1Ms: 20 })).toMatchObject({ t1Ms: 20, timeoutMs: 1280 });
    const s = startClientTransaction(0);
    expect(s).toMatchObject({ transmit: true, event: 'start', wakeAt: 500 });
    expect(s.state.timeoutAt).toBe(32_000);
  });

  it('once a provisional arrived, every later retransmission waits T2; the one already armed keeps its time', () => {
    let s = startClientTransaction(0, { t1Ms: 100, t2Ms: 1000, timeoutMs: 10_000 });
    s = onClientTimer(s.state, 100); // retransmission 1, next at 300
    expect(s.wakeAt).toBe(300);
    s = onClientResponse(s.state, 100, 150);
    expect(s).toMatchObject({ event: 'provisional', transmit: false, wakeAt: 300 });
    expect(s.state.phase).toBe('proceeding');
    s = onClientTimer(s.state, 300);
    expect(s.transmit).toBe(true);
    expect(s.wakeAt).toBe(1300); // T2, not 2*200
    s = onClientTimer(s.state, 1300);
    expect(s.wakeAt).toBe(2300);
    // A second provisional changes nothing.
    const again = onClientResponse(s.state, 180, 1400);
    expect(again).toMatchObject({ event: 'provisional', wakeAt: 2300 });
    expect(again.state).toBe(s.state);
  });

  it('a provisional does not stop timer F', () => {
    let s = startClientTransaction(0, { t1Ms: 100, t2Ms: 400, timeoutMs: 1000 });
    s = onClientResponse(s.state, 100, 10);
    while (s.wakeAt !== null) s = onClientTimer(s.state, s.wakeAt);
    expect(s.event).toBe('timeout');
    expect(s.state.timeoutAt).toBe(1000);
  });

  it('the first final answer completes the transaction: no more sends, no more timers', () => {
    let s = startClientTransaction(0, { t1Ms: 100 });
    s = onClientTimer(s.state, 100);
    s = onClientResponse(s.state, 202, 120);
    expect(s).toMatchObject({ event: 'final', transmit: false, wakeAt: null });
    expect(s.state).toMatchObject({ phase: 'completed', finalStatus: 202, finishedAt: 120, sent: 2 });
    expect(onClientTimer(s.state, 10_000)).toMatchObject({ event: 'none', transmit: false, wakeAt: null });
  });

  it('late and duplicate answers are absorbed: the final status is reported once and never changes', () => {
    let s = startClientTransaction(0);
    s = onClientResponse(s.state, 401, 50);
    const completed = s.state;
    for (const status of [401, 200, 100, 503]) {
      const late = onClientResponse(completed, status, 60);
      expect(late.event).toBe('absorbed');
      expect(late.state).toBe(completed);
      expect(late.transmit).toBe(false);
    }
    expect(completed.finalStatus).toBe(401);
  });

  it('answers after timer F are absorbed too', () => {
    const { last } = run({ t1Ms: 10, timeoutMs: 100 });
    expect(last.state.phase).toBe('timed-out');
    expect(onClientResponse(last.state, 200, 200)).toMatchObject({ event: 'absorbed', wakeAt: null });
  });

  it('early or stray timer calls change nothing', () => {
    const s = startClientTransaction(0, { t1Ms: 100 });
    const early = onClientTimer(s.state, 99);
    expect(early).toMatchObject({ event: 'none', transmit: false, wakeAt: 100 });
    expect(early.state).toBe(s.state);
  });

  it('a retransmission budget stops timer E but not timer F (PnP: at most 3 retransmissions)', () => {
    const { sends, last } = run({ t1Ms: 10, t2Ms: 4000, timeoutMs: 500, maxRetransmits: 3 });
    expect(sends).toEqual([0, 10, 30, 70]);
    expect(last.event).toBe('timeout');
    expect(run({ t1Ms: 10, timeoutMs: 500, maxRetransmits: 0 }).sends).toEqual([0]);
  });

  it('timer F wins over a retransmission due at the same time', () => {
    const { sends, last } = run({ t1Ms: 100, t2Ms: 100, timeoutMs: 300 });
    expect(sends).toEqual([0, 100, 200]);
    expect(last.event).toBe('timeout');
  });
});
