/**
 * Admission to the TFTP server's transfer slots, shared fairly between source
 * addresses.
 *
 * TFTP (RFC 1350) has no authentication and a read request is one datagram,
 * so a handful of hosts (or one host spoofing many addresses) can ask for
 * more transfers than the server runs at once and then never acknowledge
 * anything. The table keeps that from locking phones out:
 *
 * - at most `maxPerSource` slots per source address: a source at its cap is
 *   refused (`source`), whatever else is free;
 * - at most `maxTransfers` slots in all; when the table is full, a request
 *   from a source holding fewer slots than some other source evicts the
 *   oldest never-started slot (no ACK from its client yet) of the source
 *   holding the most slots; a slot whose client has acknowledged something is
 *   never evicted. When nothing can be evicted fairly the request is refused
 *   (`server`);
 * - per-source state exists only for addresses that hold a slot, so it is
 *   bounded by `maxTransfers`.
 *
 * A repeated request from a client transfer ID already holding a slot is
 * reported as `duplicate` (the transfer in progress answers it).
 *
 * Pure module: no I/O, no clock (age is the order of admission).
 */

/** What the table needs to know about a slot. */
export interface TftpSlotLike {
  /** The client transfer ID, `address|port` (RFC 1350 §4). */
  readonly key: string;
  /** The source address the per-source cap counts. */
  readonly address: string;
  /** True once the client acknowledged something: such a slot is never evicted. */
  isStarted(): boolean;
}

/** Bounds of a {@link TftpSlotTable}. */
export interface TftpSlotLimits {
  /** Slots at once, in all (>= 1). */
  readonly maxTransfers: number;
  /** Slots at once per source address (>= 1). */
  readonly maxPerSource: number;
}

/** Outcome of {@link TftpSlotTable.admit}. */
export type TftpAdmission<S> = { readonly ok: true; readonly evicted: S | null } | { readonly ok: false; readonly reason: 'duplicate' | 'source' | 'server' };

interface Entry<S> {
  readonly slot: S;
  readonly seq: number;
}

/** The slot table: see the module comment for the policy. */
export class TftpSlotTable<S extends TftpSlotLike> {
  private readonly byKey = new Map<string, Entry<S>>();
  /** Per source address, its entries in admission order (oldest first). Only addresses holding a slot. */
  private readonly bySource = new Map<string, Set<Entry<S>>>();
  private seq = 0;
  private readonly maxTransfers: number;
  private readonly maxPerSource: number;

  constructor(limits: TftpSlotLimits) {
    this.maxTransfers = Math.max(1, Math.floor(limits.maxTransfers));
    this.maxPerSource = Math.max(1, Math.floor(limits.maxPerSource));
  }

  /** Slots held. */
  get size(): number {
    return this.byKey.size;
  }

  /** Addresses holding at least one slot (the per-source state kept). */
  get sources(): number {
    return this.bySource.size;
  }

  /** True when `key` holds a slot. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The slot `key` holds, if any. */
  get(key: string): S | undefined {
    return this.byKey.get(key)?.slot;
  }

  /** Slots held by `address`. */
  countFor(address: string): number {
    return this.bySource.get(address)?.size ?? 0;
  }

  /**
   * Admits `slot`, evicting one never-started slot of the busiest source when
   * the table is full and that is fair. The evicted slot is already removed
   * from the table; the caller ends its transfer.
   */
  admit(slot: S): TftpAdmission<S> {
    if (this.byKey.has(slot.key)) return { ok: false, reason: 'duplicate' };
    const mine = this.countFor(slot.address);
    if (mine >= this.maxPerSource) return { ok: false, reason: 'source' };
    let evicted: S | null = null;
    if (this.byKey.size >= this.maxTransfers) {
      const victim = this.victimFor(mine);
      if (!victim) return { ok: false, reason: 'server' };
      this.remove(victim);
      evicted = victim.slot;
    }
    const entry: Entry<S> = { slot, seq: this.seq++ };
    this.byKey.set(slot.key, entry);
    let set = this.bySource.get(slot.address);
    if (!set) {
      set = new Set();
      this.bySource.set(slot.address, set);
    }
    set.add(entry);
    return { ok: true, evicted };
  }

  /** Frees the slot `slot` holds; false when it holds none (already released or evicted). */
  release(slot: S): boolean {
    const entry = this.byKey.get(slot.key);
    if (!entry || entry.slot !== slot) return false;
    this.remove(entry);
    return true;
  }

  /** The oldest never-started entry of the source holding the most slots, among sources holding more than `mine`. */
  private victimFor(mine: number): Entry<S> | null {
    let best: { entry: Entry<S>; count: number } | null = null;
    for (const set of this.bySource.values()) {
      if (set.size <= mine) continue;
      if (best && set.size < best.count) continue;
      let oldest: Entry<S> | null = null;
      for (const e of set) {
        if (!e.slot.isStarted()) {
          oldest = e;
          break;
        }
      }
      if (!oldest) continue;
      if (!best || set.size > best.count || oldest.seq < best.entry.seq) best = { entry: oldest, count: set.size };
    }
    return best?.entry ?? null;
  }

  private remove(entry: Entry<S>): void {
    this.byKey.delete(entry.slot.key);
    const set = this.bySource.get(entry.slot.address);
    if (!set) return;
    set.delete(entry);
    if (set.size === 0) this.bySource.delete(entry.slot.address);
  }
}
