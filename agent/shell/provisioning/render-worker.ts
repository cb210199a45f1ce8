/**
 * Render worker entry (a `node:worker_threads` worker started by
 * render-pool.ts): builds the vendor drivers once from `workerData` and
 * answers render requests with `driver.render(input, name)`, so liquid
 * rendering (a few tenths of a millisecond for a fully written Yealink file,
 * more for the first file of a model) stays off the agent's main thread.
 *
 * Protocol (structured clone): in `{ id, vendor, input, name }`; out
 * `{ id, ok: true, file }` or `{ id, ok: false, error: { code, message, detail } }`.
 * The file comes back encoded and cut into chunks (chunk-pool.ts), its memory
 * moved to the main thread rather than copied.
 * A HotdeskError keeps its code, message and (secret-free) detail; anything
 * else becomes `internal` without its message (it might quote a secret).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HotdeskError, type ErrorCode } from '../../core/errors.js';
import type { Vendor } from '../../core/model.js';
import type { RenderInput, VendorDriver } from '../../vendors/driver.js';
import { loadFirmwareProfiles } from '../../vendors/firmware-profile.js';
import { createDrivers } from '../../vendors/registry.js';
import { type EncodedFile, encodeFile } from './chunk-pool.js';

/** What the pool hands the worker at start. */
export interface RenderWorkerData {
  /** Site template override root (`<data>/templates`). */
  readonly siteTemplateDir?: string;
}

/**
 * One render request. The input travels without its firmware profile (the largest part of it, and the
 * same for every phone of a model): the worker loaded the same profiles at start and looks it up by
 * `profileOf` (the profile's own vendor and model).
 */
export interface RenderRequest {
  readonly id: number;
  readonly vendor: Vendor;
  readonly input: Omit<RenderInput, 'profile'>;
  readonly profileOf: { readonly vendor: Vendor; readonly model: string };
  readonly name: string;
}

/** A serialised HotdeskError. */
export interface RenderErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly detail: Record<string, unknown>;
}

/** One render answer (or the start-up `ready` notice). */
export type RenderReply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly file: EncodedFile | null }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: RenderErrorData };

function errorData(e: unknown): RenderErrorData {
  if (e instanceof HotdeskError) return { code: e.code, message: e.message, detail: { ...e.detail } };
  return { code: 'internal', message: 'internal error', detail: {} };
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('render-worker must run as a worker thread');
  const data = (workerData ?? {}) as RenderWorkerData;
  const profiles = loadFirmwareProfiles();
  const drivers: readonly VendorDriver[] = createDrivers({
    profiles,
    ...(data.siteTemplateDir !== undefined ? { siteTemplateDir: data.siteTemplateDir } : {}),
  });
  port.on('message', (req: RenderRequest) => {
    let reply: RenderReply;
    let moved: ArrayBuffer[] = [];
    try {
      const driver = drivers.find((d) => d.vendor === req.vendor);
      if (!driver) throw new HotdeskError('unknown-file', `no driver for ${req.vendor}`);
      const profile = profiles.find(req.profileOf.vendor, req.profileOf.model);
      if (!profile) throw new HotdeskError('unknown-model', `no firmware profile for ${req.profileOf.vendor} ${req.profileOf.model}`);
      const rendered = driver.render({ ...req.input, profile }, req.name);
      const file = rendered ? encodeFile(rendered) : null;
      if (file) moved = [file.bytes.buffer as ArrayBuffer, file.cuts.ends.buffer as ArrayBuffer, file.cuts.hashes.buffer as ArrayBuffer];
      reply = { type: 'result', id: req.id, ok: true, file };
    } catch (e) {
      reply = { type: 'result', id: req.id, ok: false, error: errorData(e) };
    }
    try {
      port.postMessage(reply, moved);
    } catch {
      // A detail that cannot be cloned: send the code and message only.
      const err = reply.type === 'result' && !reply.ok ? reply.error : errorData(null);
      port.postMessage({ type: 'result', id: req.id, ok: false, error: { code: err.code, message: err.message, detail: {} } } satisfies RenderReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies RenderReply);
}

main();
