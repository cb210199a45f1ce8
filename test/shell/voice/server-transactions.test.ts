import { describe, expect, it } from 'vitest';
import { buildSipResponse } from '../../../agent/protocols/sip-response-builder.js';
import { ServerTransactions } from '../../../agent/shell/voice/server-transactions.js';
import { PHONE, phoneInvite, phoneRequest } from '../../protocols/sip-test-kit.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function collector(): { sent: string[]; send: (wire: string, to: { address: string; port: number }) => void; to: { address: string; port: number }[] } {
  const sent: string[] = [];
  const to: { address: string; port: number }[] = [];
  return {
    sent,
    to,
    send: (w, t) => {
      sent.push(w);
      to.push(t);
    },
  };
}

const status = (wire: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(wire)?.[1]);

describe('server transactions on real timers', () => {
  it('an INVITE gets 100 Trying at once; its retransmission is absorbed with the last answer; a failure is retransmitted until the ACK', async () => {
    const c = collector();
    const tx = new ServerTransactions({ send: c.send, timers: { t1Ms: 20, t2Ms: 80 } });
    const inv = phoneInvite();
    const r = tx.receive(inv, PHONE);
    expect(r.kind).toBe('new');
    expect(c.sent.map(status)).toEqual([100]);
    expect(tx.receive(inv, PHONE)).toEqual({ kind: 'absorbed' });
    expect(c.sent.map(status)).toEqual([100, 100]);
    if (r.kind !== 'new') return;
    tx.respond(r.key, buildSipResponse(inv, { status: 486, toTag: 'x', source: PHONE }), 486);
    expect(c.sent.map(status)).toEqual([100, 100, 486]);
    await sleep(70); // timer G: 20 ms, then 40 ms
    const resent = c.sent.filter((w) => status(w) === 486).length;
    expect(resent).toBeGreaterThanOrEqual(2);
    // The ACK of the failure (same branch) is the transaction's: absorbed, and G stops.
    const ack = phoneRequest({ method: 'ACK', cseq: 101, branch: 'z9hG4bKinv1', toTag: 'x' });
    expect(tx.receive(ack, PHONE)).toEqual({ kind: 'absorbed' });
    const after = c.sent.length;
    await sleep(100);
    expect(c.sent.length).toBe(after);
    expect(c.to.every((t) => t.address === PHONE.address && t.port === PHONE.port)).toBe(true);
    tx.close();
  });

  it('a non-INVITE answer is re-sent to a retransmission, then forgotten after timer J', async () => {
    const c = collector();
    const tx = new ServerTransactions({ send: c.send, timers: { t1Ms: 5 } });
    const opt = phoneRequest({ method: 'OPTIONS', cseq: 1, branch: 'z9hG4bKo1' });
    const r = tx.receive(opt, PHONE);
    if (r.kind !== 'new') throw new Error('expected a new transaction');
    expect(c.sent).toEqual([]); // no 100 for a non-INVITE
    tx.respond(r.key, buildSipResponse(opt, { status: 200, toTag: 'y', source: PHONE }), 200);
    tx.receive(opt, PHONE);
    expect(c.sent.map(status)).toEqual([200, 200]);
    expect(tx.size).toBe(1);
    await sleep(5 * 64 + 100);
    expect(tx.size).toBe(0);
  });

  it('the table is bounded: beyond the cap a new request is not taken', () => {
    const c = collector();
    const tx = new ServerTransactions({ send: c.send, maxTransactions: 3 });
    for (let i = 0; i < 3; i++) expect(tx.receive(phoneRequest({ method: 'OPTIONS', cseq: 1, branch: `z9hG4bKf${i}` }), PHONE).kind).toBe('new');
    expect(tx.receive(phoneRequest({ method: 'OPTIONS', cseq: 1, branch: 'z9hG4bKf9' }), PHONE).kind).toBe('full');
    expect(tx.size).toBe(3);
    tx.close();
    expect(tx.size).toBe(0);
  });
});
