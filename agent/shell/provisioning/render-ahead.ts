/**
 * Renders phone files before the phones ask (the pipeline's `renderAhead`), so a fetch finds its file
 * in the render cache:
 *
 * - at start-up, every enrolled phone (after a power cut the agent is usually up before the phones have
 *   booted, so their boot storm is served from memory);
 * - after a commit that bumped a phone's revision (a login, a logout, an admin change), that phone
 *   first: the check-sync NOTIFY leaves at the same moment, and the phone's re-fetch finds the new file
 *   rendered or being rendered (the pipeline renders one key once, whoever asks).
 *
 * It only uses idle render workers: while fetches wait for a worker it waits too. The queue holds MACs
 * of enrolled phones named by the store (never by a requester), each at most once.
 */
import type { Logger } from '../logger.js';

export interface RenderAheadOptions {
  /** Renders the files of one phone that are not cached yet; resolves to how many were rendered. */
  readonly render: (mac: string) => Promise<number>;
  /** True while fetches wait for a render worker. */
  readonly busy: () => boolean;
  readonly log: Logger;
  /** Phones rendered at once (default 2: one rendering, one ready, per worker). */
  readonly concurrency?: number;
  /** How long to wait for the workers when they are busy (default 10 ms). */
  readonly retryMs?: number;
  /** Called when the queue empties after start-up's pass (tests, logs). */
  readonly onIdle?: (stats: RenderAheadStats) => void;
}

/** What render-ahead did so far. */
export interface RenderAheadStats {
  /** Files rendered ahead. */
  readonly files: number;
  /** Phones whose render-ahead failed (the phone's own fetch renders and reports it). */
  readonly failed: number;
}

/** The render-ahead queue and its pump (the shell owns it; timers here). */
export class RenderAhead {
  /** Phones whose revision changed: rendered first. */
  private readonly soon = new Set<string>();
  /** Start-up's pass over every phone. */
  private readonly later = new Set<string>();
  private running = 0;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private files = 0;
  private failed = 0;
  private readonly concurrency: number;

  constructor(private readonly o: RenderAheadOptions) {
    this.concurrency = Math.max(1, o.concurrency ?? 2);
  }

  /** Starts rendering: `all` (every enrolled phone) after what commits already named. */
  start(all: Iterable<string>): void {
    for (const mac of all) if (!this.soon.has(mac)) this.later.add(mac);
    this.started = true;
    this.pump();
  }

  /** Phones whose revision changed: rendered before the rest. */
  push(macs: Iterable<string>): void {
    for (const mac of macs) {
      this.later.delete(mac);
      this.soon.add(mac);
    }
    this.pump();
  }

  /** Stops; renders in flight finish, nothing new starts. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.soon.clear();
    this.later.clear();
  }

  /** Phones waiting. */
  get pending(): number {
    return this.soon.size + this.later.size;
  }

  /** Files rendered ahead and phones that failed so far. */
  get stats(): RenderAheadStats {
    return { files: this.files, failed: this.failed };
  }

  private next(): string | undefined {
    for (const set of [this.soon, this.later]) {
      for (const mac of set) {
        set.delete(mac);
        return mac;
      }
    }
    return undefined;
  }

  private pump(): void {
    if (!this.started || this.stopped || this.timer) return;
    while (this.running < this.concurrency && this.pending > 0) {
      if (this.o.busy()) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, this.o.retryMs ?? 10);
        this.timer.unref();
        return;
      }
      const mac = this.next();
      if (mac === undefined) break;
      this.running++;
      this.o.render(mac).then(
        (n) => this.done(n),
        (e: unknown) => {
          this.failed++;
          this.o.log.debug('render ahead failed', { mac, error: String(e) });
          this.done(0);
        },
      );
    }
  }

  private done(files: number): void {
    this.files += files;
    this.running--;
    this.pump();
    if (this.running === 0 && this.pending === 0 && !this.stopped) this.o.onIdle?.(this.stats);
  }
}
