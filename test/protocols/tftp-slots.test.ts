import { describe, expect, it } from 'vitest';
import { TftpSlotTable, type TftpSlotLike } from '../../agent/protocols/tftp-slots.js';

class Slot implements TftpSlotLike {
  started = false;
  constructor(
    readonly address: string,
    readonly port: number,
  ) {}
  get key(): string {
    return `${this.address}|${this.port}`;
  }
  isStarted(): boolean {
    return this.started;
  }
}

let port = 1000;
const slot = (address: string): Slot => new Slot(address, port++);

describe('tftp slot table', () => {
  it('caps slots per address and reports a repeated TID as a duplicate', () => {
    const t = new TftpSlotTable<Slot>({ maxTransfers: 10, maxPerSource: 2 });
    const a1 = slot('a');
    expect(t.admit(a1)).toEqual({ ok: true, evicted: null });
    expect(t.admit(new Slot('a', a1.port))).toEqual({ ok: false, reason: 'duplicate' });
    expect(t.get(a1.key)).toBe(a1); // the slot a repeated request belongs to
    expect(t.get('a|1')).toBeUndefined();
    expect(t.admit(slot('a'))).toEqual({ ok: true, evicted: null });
    expect(t.admit(slot('a'))).toEqual({ ok: false, reason: 'source' });
    expect(t.admit(slot('b')).ok).toBe(true);
    expect([t.size, t.sources, t.countFor('a'), t.countFor('b')]).toEqual([3, 2, 2, 1]);
  });

  it('when full, a newcomer evicts the oldest never-started slot of the address holding the most', () => {
    const t = new TftpSlotTable<Slot>({ maxTransfers: 5, maxPerSource: 5 });
    const a = [slot('a'), slot('a'), slot('a')];
    const b = [slot('b'), slot('b')];
    for (const s of [...a, ...b]) expect(t.admit(s).ok).toBe(true);
    a[0]!.started = true;
    expect(t.admit(slot('c'))).toEqual({ ok: true, evicted: a[1] });
    // a and b now hold 2 each: the tie goes to the oldest never-started slot (a[2] is older than b[0]).
    expect(t.admit(slot('d'))).toEqual({ ok: true, evicted: a[2] });
    expect(t.release(a[1]!)).toBe(false); // already evicted
    expect([t.countFor('a'), t.countFor('b'), t.countFor('c'), t.countFor('d')]).toEqual([1, 2, 1, 1]);
  });

  it('never evicts a started slot, nor from an address holding no more than the requester', () => {
    const t = new TftpSlotTable<Slot>({ maxTransfers: 3, maxPerSource: 3 });
    const a = [slot('a'), slot('a'), slot('b')];
    for (const s of a) expect(t.admit(s).ok).toBe(true);
    a[0]!.started = true;
    a[1]!.started = true;
    // b's only slot is never-started, but b holds 1: a requester holding 0 may take it...
    const c = slot('c');
    expect(t.admit(c)).toEqual({ ok: true, evicted: a[2] });
    // ...while one holding as many as everyone else may not, and a holds only started slots.
    expect(t.admit(slot('c'))).toEqual({ ok: false, reason: 'server' });
    expect(t.admit(slot('e'))).toEqual({ ok: true, evicted: c });
  });

  it('keeps per-address state only for addresses holding a slot', () => {
    const t = new TftpSlotTable<Slot>({ maxTransfers: 4, maxPerSource: 1 });
    const all = Array.from({ length: 1000 }, (_, i) => slot(`10.0.${i >> 8}.${i & 255}`));
    for (const s of all) expect(t.admit(s).ok).toBe(true); // each newcomer evicts the oldest
    expect([t.size, t.sources]).toEqual([4, 4]);
    for (const s of all) t.release(s);
    expect([t.size, t.sources]).toEqual([0, 0]);
  });
});
