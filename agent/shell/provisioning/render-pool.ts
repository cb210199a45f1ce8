/**
 * A small `node:worker_threads` pool that renders phone files off the main
 * thread (render-worker.ts), so a cold boot storm of uncached files does not
 * starve the PBX login endpoint (docs/behaviour.md §10: the pipeline's render step).
 *
 * Jobs carry request ids; at most `perWorker` jobs are in flight per worker
 * (default {@link DEFAULT_PER_WORKER}), the rest wait in a bounded FIFO queue
 * (overflow: HotdeskError 'rate-limited').
 * A worker that dies is replaced and its in-flight jobs are rejected with
 * HotdeskError('internal'). A HotdeskError thrown in the worker comes back as
 * the same HotdeskError (code, message, detail).
 *
 * The worker is the compiled `render-worker.js` next to this module: under
 * vitest the sources are `.ts` and cannot start as a worker, so callers check
 * {@link renderWorkerAvailable} first and otherwise render in-thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HotdeskError } from '../../core/errors.js';
import type { Vendor } from '../../core/model.js';
import type { RenderInput } from '../../vendors/driver.js';
import type { EncodedFile } from './chunk-pool.js';
import type { RenderReply, RenderRequest, RenderWorkerData } from './render-worker.js';

/** Where the compiled worker script lives (next to this module). */
export const RENDER_WORKER_URL = new URL('./render-worker.js', import.meta.url);

/** True when the compiled worker script exists (running from dist/). */
export function renderWorkerAvailable(): boolean {
  return existsSync(fileURLToPath(RENDER_WORKER_URL));
}

/** The default pool size: all cores but the main thread's, at least one. */
export function defaultRenderWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Jobs in flight per worker by default. A storm keeps the main thread busy for several milliseconds per
 * turn of its event loop, and a worker only gets new jobs when the main thread handles its replies: with 2
 * in flight the worker sat idle between turns (cold boot storm, 64 clients: 1,214–1,387 files/s, worker
 * ~40 % idle); with 32 queued in the worker's own port it keeps rendering (1,584–2,151 files/s).
 */
export const DEFAULT_PER_WORKER = 32;

/** Anything that renders a file asynchronously (the pool, or a test double). */
export interface AsyncRenderer {
  render(vendor: Vendor, input: RenderInput, name: string): Promise<EncodedFile | null>;
}

/** Options of {@link RenderPool}. */
export interface RenderPoolOptions {
  /** Number of workers (default {@link defaultRenderWorkers}). */
  readonly size?: number;
  /** Site template override root (`<data>/templates`), passed to each worker. */
  readonly siteTemplateDir?: string;
  /** Max jobs waiting for a worker (default 10 000). */
  readonly maxQueue?: number;
  /** Max jobs in flight per worker (default {@link DEFAULT_PER_WORKER}). */
  readonly perWorker?: number;
}

/** A file as it arrives from a worker: the structured clone made its Buffer a plain Uint8Array. */
function asBuffer(f: EncodedFile): EncodedFile {
  const b: Uint8Array = f.bytes;
  return { ...f, bytes: Buffer.from(b.buffer, b.byteOffset, b.byteLength) };
}

interface Job {
  readonly req: RenderRequest;
  resolve(file: EncodedFile | null): void;
  reject(e: HotdeskError): void;
}

interface Slot {
  readonly worker: Worker;
  readonly inFlight: Map<number, Job>;
  /** Set once the slot is gone (crashed or closed). */
  dead: boolean;
  ready: boolean;
}

/** Consecutive start-up failures after which the pool stops replacing workers. */
const MAX_START_FAILURES = 3;

/** A pool of render workers. */
export class RenderPool implements AsyncRenderer {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly perWorker: number;
  private readonly data: RenderWorkerData;
  private nextId = 1;
  private closed = false;
  private startFailures = 0;

  constructor(o: RenderPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(o.size ?? defaultRenderWorkers()));
    this.maxQueue = o.maxQueue ?? 10_000;
    this.perWorker = Math.max(1, o.perWorker ?? DEFAULT_PER_WORKER);
    this.data = o.siteTemplateDir !== undefined ? { siteTemplateDir: o.siteTemplateDir } : {};
    for (let i = 0; i < this.size; i += 1) this.spawn();
  }

  /** Jobs waiting for a worker (none in flight counted). */
  get queued(): number {
    return this.queue.length;
  }

  /** Number of live workers. */
  get workers(): number {
    return this.slots.length;
  }

  /** The live worker threads (diagnostics; tests terminate one to check recovery). */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Renders `name` for the input's phone on a worker; null when not one of its files. */
  render(vendor: Vendor, input: RenderInput, name: string): Promise<EncodedFile | null> {
    if (this.closed) return Promise.reject(new HotdeskError('internal', 'render pool closed'));
    if (this.slots.length === 0) return Promise.reject(new HotdeskError('internal', 'render workers failed to start'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new HotdeskError('rate-limited', 'render queue full'));
    return new Promise((resolve, reject) => {
      const { profile, ...rest } = input;
      const req: RenderRequest = { id: this.nextId++, vendor, input: rest, profileOf: { vendor: profile.vendor, model: profile.model }, name };
      this.queue.push({ req, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; pending and queued jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const gone = new HotdeskError('internal', 'render pool closed');
    for (const job of this.queue.splice(0)) job.reject(gone);
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.dead = true;
      for (const job of s.inFlight.values()) job.reject(gone);
      s.inFlight.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): void {
    const worker = new Worker(RENDER_WORKER_URL, { workerData: this.data });
    worker.unref();
    const slot: Slot = { worker, inFlight: new Map(), dead: false, ready: false };
    this.slots.push(slot);
    worker.on('message', (m: RenderReply) => this.onMessage(slot, m));
    worker.on('error', () => this.onDeath(slot));
    worker.on('exit', () => this.onDeath(slot));
  }

  private onMessage(slot: Slot, m: RenderReply): void {
    if (m.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      return;
    }
    const job = slot.inFlight.get(m.id);
    if (!job) return;
    slot.inFlight.delete(m.id);
    if (m.ok) job.resolve(m.file && asBuffer(m.file));
    else job.reject(new HotdeskError(m.error.code, m.error.message, m.error.detail));
    this.dispatch();
  }

  /** A worker crashed or exited: reject its jobs, replace it (unless it keeps failing at start), go on. */
  private onDeath(slot: Slot): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const crashed = new HotdeskError('internal', 'render worker stopped');
    for (const job of slot.inFlight.values()) job.reject(crashed);
    slot.inFlight.clear();
    if (this.closed) return;
    if (!slot.ready) this.startFailures += 1;
    if (this.startFailures < MAX_START_FAILURES) this.spawn();
    if (this.slots.length === 0) {
      for (const job of this.queue.splice(0)) job.reject(new HotdeskError('internal', 'render workers failed to start'));
      return;
    }
    this.dispatch();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const s of this.slots) {
        if (!s.dead && s.inFlight.size < this.perWorker && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      }
      if (!best) return;
      const job = this.queue.shift();
      if (!job) return;
      best.inFlight.set(job.req.id, job);
      try {
        best.worker.postMessage(job.req);
      } catch (e) {
        best.inFlight.delete(job.req.id);
        job.reject(new HotdeskError('internal', 'render input could not be sent to the worker', {}, { cause: e }));
      }
    }
  }
}
