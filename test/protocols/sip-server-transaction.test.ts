import { describe, expect, it } from 'vitest';
import { getHeader, parseVia } from '../../agent/protocols/sip-message.js';
import { buildSipResponse } from '../../agent/protocols/sip-response-builder.js';
import {
  onServerRequest,
  onServerRespond,
  onServerTimer,
  type ServerTransactionStep,
  serverTimers,
  startServerTransaction,
  transactionKey,
} from '../../agent/protocols/sip-server-transaction.js';
import { PHONE, phoneInvite, phoneRequest, res } from './sip-test-kit.js';

const T0 = 10_000;

/** Runs the timer exactly when asked until `until`; returns the (relative) times something was sent and the last step. */
function runTimers(start: ServerTransactionStep, until: number): { sends: number[]; last: ServerTransactionStep } {
  let s = start;
  const sends: number[] = [];
  while (s.wakeAt !== null && s.wakeAt <= until) {
    const now = s.wakeAt;
    s = onServerTimer(s.state, now);
    if (s.send.length > 0) sends.push(now - T0);
  }
  return { sends, last: s };
}

describe('transactionKey (RFC 3261 §17.2.3)', () => {
  it('matches on branch, sent-by and method; ACK joins its INVITE, CANCEL has its own', () => {
    const inv = phoneInvite();
    const ack = phoneRequest({ method: 'ACK', cseq: 101, branch: 'z9hG4bKinv1', toTag: 'x' });
    const cancel = phoneRequest({ method: 'CANCEL', cseq: 101, branch: 'z9hG4bKinv1' });
    const other = phoneInvite({ branch: 'z9hG4bKinv2' });
    expect(transactionKey(inv)).toBe('z9hG4bKinv1|10.0.0.50:5062|INVITE');
    expect(transactionKey(ack)).toBe(transactionKey(inv));
    expect(transactionKey(cancel)).not.toBe(transactionKey(inv));
    expect(transactionKey(other)).not.toBe(transactionKey(inv));
  });

  it('falls back to RFC 2543 matching without the magic cookie, and gives null without Via', () => {
    const a = phoneRequest({ method: 'OPTIONS', cseq: 5, branch: 'old1' });
    const b = phoneRequest({ method: 'OPTIONS', cseq: 6, branch: 'old1' });
    expect(transactionKey(a)).toMatch(/^2543\|/);
    expect(transactionKey(a)).not.toBe(transactionKey(b)); // CSeq is part of the old-style key
    expect(transactionKey({ ...a, headers: a.headers.filter((h) => h.name !== 'Via') })).toBeNull();
  });
});

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  const register = phoneRequest({ method: 'REGISTER', cseq: 7, branch: 'z9hG4bKreg' });
  const ok = buildSipResponse(register, { status: 200, toTag: 't' });

  it('Trying absorbs retransmissions silently; Completed re-sends the final until timer J', () => {
    const start = startServerTransaction(register, T0);
    expect(start.send).toEqual([]);
    expect(start.state.phase).toBe('trying');
    expect(onServerRequest(start.state, register, T0 + 400).send).toEqual([]);
    const done = onServerRespond(start.state, ok, 200, T0 + 500);
    expect(done.send).toEqual([ok]);
    expect(done.state.phase).toBe('completed');
    expect(done.wakeAt).toBe(T0 + 500 + 64 * 500);
    expect(onServerRequest(done.state, register, T0 + 2000).send).toEqual([ok]);
    expect(onServerRespond(done.state, ok, 200, T0 + 600)).toMatchObject({ event: 'refused', send: [] });
    expect(onServerTimer(done.state, T0 + 20_000)).toMatchObject({ event: 'none', done: false });
    expect(onServerTimer(done.state, T0 + 500 + 32_000)).toMatchObject({ event: 'terminated', done: true, wakeAt: null });
  });

  it('a provisional answer moves to Proceeding, where retransmissions re-send it', () => {
    const start = startServerTransaction(register, T0);
    const trying = buildSipResponse(register, { status: 100 });
    const p = onServerRespond(start.state, trying, 100, T0 + 10);
    expect(p.state.phase).toBe('proceeding');
    expect(onServerRequest(p.state, register, T0 + 500).send).toEqual([trying]);
  });

  it('a transaction its TU never answers is abandoned after 64*T1', () => {
    const start = startServerTransaction(register, T0, { t1Ms: 100 });
    expect(start.wakeAt).toBe(T0 + 6400);
    expect(onServerTimer(start.state, T0 + 6400)).toMatchObject({ event: 'abandoned', done: true });
  });
});

describe('INVITE server transaction (RFC 3261 §17.2.1)', () => {
  const inv = phoneInvite();
  const busy = buildSipResponse(inv, { status: 486, toTag: 'agent' });
  const ack = phoneRequest({ method: 'ACK', cseq: 101, branch: 'z9hG4bKinv1', toTag: 'agent' });

  it('sends 100 Trying at once (no To tag, Via stamped) and re-sends it to a retransmitted INVITE', () => {
    const start = startServerTransaction(inv, T0, {}, { source: PHONE, tryingHeaders: [{ name: 'Server', value: 'hotdesk' }] });
    expect(start.send).toHaveLength(1);
    const trying = res(start.send[0] ?? '');
    expect(trying.status).toBe(100);
    expect(getHeader(trying, 'To')).toBe('<sip:hotdesk@10.0.0.2>');
    expect(parseVia(getHeader(trying, 'Via') ?? '')).toMatchObject({ rport: '5062', received: '10.0.0.50', branch: 'z9hG4bKinv1' });
    expect(getHeader(trying, 'Server')).toBe('hotdesk');
    expect(onServerRequest(start.state, inv, T0 + 300).send).toEqual(start.send);
    expect(start.wakeAt).toBe(T0 + 180_000); // waits at most 3 minutes for its TU
  });

  it('a 2xx is sent once and ends the transaction (the call retransmits it)', () => {
    const start = startServerTransaction(inv, T0);
    const ok = buildSipResponse(inv, { status: 200, toTag: 'agent' });
    expect(onServerRespond(start.state, ok, 200, T0 + 5)).toMatchObject({ send: [ok], done: true, wakeAt: null });
  });

  it('timer G re-sends a failure at T1, 2*T1, 4*T1... capped at T2 until timer H gives up', () => {
    const start = startServerTransaction(inv, T0);
    const failed = onServerRespond(start.state, busy, 486, T0);
    expect(failed.send).toEqual([busy]);
    expect(failed.state.phase).toBe('completed');
    const { sends, last } = runTimers(failed, Number.POSITIVE_INFINITY);
    expect(sends).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(last).toMatchObject({ event: 'timeout', done: true });
    expect(last.state.phase).toBe('terminated');
  });

  it('a retransmitted INVITE re-sends the failure; the ACK confirms and timer I (T4) ends it', () => {
    const failed = onServerRespond(startServerTransaction(inv, T0).state, busy, 486, T0);
    expect(onServerRequest(failed.state, inv, T0 + 200).send).toEqual([busy]);
    const confirmed = onServerRequest(failed.state, ack, T0 + 700);
    expect(confirmed).toMatchObject({ event: 'ack', send: [], wakeAt: T0 + 700 + 5000 });
    expect(confirmed.state.phase).toBe('confirmed');
    expect(onServerRequest(confirmed.state, ack, T0 + 800)).toMatchObject({ event: 'none', send: [] });
    expect(onServerRequest(confirmed.state, inv, T0 + 900).send).toEqual([]);
    const { sends, last } = runTimers(confirmed, Number.POSITIVE_INFINITY);
    expect(sends).toEqual([]); // no retransmission of the 486 after the ACK
    expect(last).toMatchObject({ event: 'terminated', done: true });
  });

  it('keeps the RFC defaults', () => {
    expect(serverTimers()).toEqual({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timeoutMs: 32_000, inviteLimitMs: 180_000 });
    expect(serverTimers({ t1Ms: 50 }).timeoutMs).toBe(3200);
  });

  it('an ACK alone starts nothing', () => {
    expect(startServerTransaction(ack, T0)).toMatchObject({ done: true, send: [] });
  });
});
