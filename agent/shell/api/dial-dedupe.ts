/**
 * "The same dial reported by both the PBX and the phone is acted on once."
 *
 * A hot-desk dial can reach the agent twice: from the PBX dialplan (plain
 * digits, `*35*101*1234`) and from the phone's outgoing-call hook (a SIP URI,
 * `sip:%2A35%2A101%2A1234@pbx`, see docs/vendors.md "Action URLs").
 * Both are normalised by the feature-code parser into the same key
 * `(phone MAC, parsed code)`; the first report acts, and any report of the
 * same key within the window gets the first outcome back without acting (a
 * report arriving while the first is still being decided waits for it: the
 * dedupe remembers the outcome's promise).
 *
 * Keys are SHA-256 digests, so PINs are not kept in memory in clear. Memory is
 * bounded (`maxEntries`, oldest dropped first). The clock is injected.
 */
import { createHash } from 'node:crypto';
import { parseFeatureCode } from '../../core/feature-code.js';
import type { DeskOutcome } from '../../core/model.js';

/** Options for {@link DialDedupe}. */
export interface DialDedupeOptions {
  readonly clock: () => number;
  /** How long a dial counts as "the same" (default 10 000 ms). */
  readonly windowMs?: number;
  /** Most remembered dials (default 4096). */
  readonly maxEntries?: number;
}

interface Entry<T> {
  readonly at: number;
  readonly value: T;
}

/** Result of {@link DialDedupe.run}. */
export interface DedupeResult<T> {
  readonly value: T;
  /** True when this report repeated an earlier one and nothing was done. */
  readonly duplicate: boolean;
}

/**
 * The dedupe key of a dial, or null when the digits are not a hot-desk code
 * (ordinary calls are never deduplicated).
 */
export function dialKey(mac: string, digits: string, prefix: string): string | null {
  const code = parseFeatureCode(digits, prefix);
  let canonical: string;
  switch (code.kind) {
    case 'not-hotdesk':
      return null;
    case 'toggle':
      canonical = 't';
      break;
    case 'ext':
      canonical = `e|${code.ext}`;
      break;
    case 'ext-pin':
      canonical = `p|${code.ext}|${code.pin}`;
      break;
  }
  return createHash('sha256').update(`${mac}|${canonical}`, 'utf8').digest('base64url');
}

/** Remembers recent dials and their outcomes. */
export class DialDedupe<T = unknown> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly clock: () => number;
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(o: DialDedupeOptions) {
    this.clock = o.clock;
    this.windowMs = o.windowMs ?? 10_000;
    this.maxEntries = Math.max(1, o.maxEntries ?? 4096);
  }

  /** Number of remembered dials (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `act` unless the same key ran within the window; then returns the
   * earlier value. A null key always acts. When `act` throws nothing is
   * remembered, so a retry acts again.
   */
  run(key: string | null, act: () => T): DedupeResult<T> {
    const now = this.clock();
    this.prune(now);
    if (key !== null) {
      const hit = this.entries.get(key);
      if (hit && now - hit.at < this.windowMs && now >= hit.at) return { value: hit.value, duplicate: true };
    }
    const value = act();
    if (key !== null) {
      this.entries.delete(key);
      this.entries.set(key, { at: now, value });
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done) break;
        this.entries.delete(oldest.value);
      }
    }
    return { value, duplicate: false };
  }

  /**
   * Forgets a remembered dial (its decision was rolled back), so the next report acts again;
   * with `value`, only while the dial remembered under `key` is still that one.
   */
  forget(key: string | null, value?: T): void {
    if (key === null) return;
    if (value === undefined || this.entries.get(key)?.value === value) this.entries.delete(key);
  }

  /** Drops expired entries (insertion order is time order). */
  private prune(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.at < this.windowMs && now >= e.at) break;
      this.entries.delete(k);
    }
  }
}

/** What {@link dialOnce} needs (a slice of the route deps). */
export interface DialOnceDeps {
  readonly store: { getSite(): Promise<{ readonly featurePrefix: string }> };
  readonly service: { dial(mac: string, digits: string): Promise<DeskOutcome> };
  readonly clock: () => number;
  /** Explicit dedupe; without it one is shared per service object. */
  readonly dedupe?: DialDedupe<Promise<DeskOutcome>>;
  readonly onCommitted?: () => void;
}

const sharedDedupes = new WeakMap<object, DialDedupe<Promise<DeskOutcome>>>();

/**
 * The dedupe used for `deps`: `deps.dedupe`, else one shared by every route
 * factory handed the same service (so the PBX route and the action-URL route
 * see each other's dials without extra wiring).
 */
export function dedupeFor(deps: DialOnceDeps): DialDedupe<Promise<DeskOutcome>> {
  if (deps.dedupe) return deps.dedupe;
  let d = sharedDedupes.get(deps.service);
  if (!d) {
    d = new DialDedupe<Promise<DeskOutcome>>({ clock: deps.clock });
    sharedDedupes.set(deps.service, d);
  }
  return d;
}

/**
 * Acts on a dial once: the first report of `(mac, digits)` within the window
 * runs `act` (default `service.dial`; once it committed, `onCommitted`), later
 * reports get the same outcome back. A dial that failed (or whose commit did)
 * is forgotten, so a retry acts again.
 *
 * @param prefix the site's feature prefix, when the caller already read it
 */
export async function dialOnce(
  deps: DialOnceDeps,
  mac: string,
  digits: string,
  act: () => Promise<DeskOutcome> = () => deps.service.dial(mac, digits),
  prefix?: string,
): Promise<DedupeResult<DeskOutcome>> {
  const key = dialKey(mac, digits, prefix ?? (await deps.store.getSite()).featurePrefix);
  const dedupe = dedupeFor(deps);
  const r = dedupe.run(key, act);
  let value: DeskOutcome;
  try {
    value = await r.value;
  } catch (e) {
    if (!r.duplicate) dedupe.forget(key, r.value);
    throw e;
  }
  if (!r.duplicate) deps.onCommitted?.();
  return { value, duplicate: r.duplicate };
}
