/**
 * The TFTP server's `resolve` for the agent: firmware images from the
 * firmware directory, every other file through the provisioning pipeline
 * (rendered off-thread when a render pool is configured), with fetch and
 * refusal metrics. Anything thrown becomes a refusal the server maps to a
 * TFTP error.
 */
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import { recordFetch, recordRefusal, since } from '../api/metrics.js';
import { FirmwareFiles } from '../provisioning/firmware-files.js';
import type { ProvisioningPipeline } from '../provisioning/provisioning-pipeline.js';
import type { TftpResolveRequest, TftpResolveResult } from './tftp-server-types.js';

/** What the resolver serves from. */
export interface TftpResolverDeps {
  readonly pipeline: ProvisioningPipeline;
  readonly firmware: FirmwareFiles;
}

/** A `resolve` function for `startTftpServer` (tftp-server.ts) answering read requests from `deps`. */
export function tftpResolver(deps: TftpResolverDeps): (req: TftpResolveRequest) => Promise<TftpResolveResult> {
  const { pipeline, firmware } = deps;
  return async (req) => {
    const started = performance.now();
    try {
      const fw = FirmwareFiles.isFirmwarePath(req.path);
      if (fw !== null) return { data: firmware.read(fw) };
      const fileReq = { protocol: 'tftp', path: req.path, remoteAddress: req.remote.address } as const;
      const served = await pipeline.serve(fileReq);
      recordFetch('tftp', served.vendor, 'ok', since(started));
      return { data: served.body };
    } catch (e) {
      const error = isHotdeskError(e) ? e : new HotdeskError('internal', 'internal error', {}, { cause: e });
      recordFetch('tftp', null, error.code, since(started));
      recordRefusal('tftp', error.code);
      return { error };
    }
  };
}
