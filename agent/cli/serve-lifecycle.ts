/**
 * The life cycle of `hotdesk serve` once the agent runs:
 *
 * - SIGTERM / SIGINT: drain (readiness 503, no new connections, requests and
 *   check-sync transactions in flight finish) for at most the shutdown bound,
 *   then close everything and exit 0.
 * - SIGHUP: re-read the directory file given with `--directory` (validated
 *   first; on any error nothing is applied and the error is logged, the agent
 *   keeps serving the previous directory), and reopen the log file.
 */
import { isHotdeskError } from '../core/errors.js';
import { loadDirectoryFile } from '../directory/load-directory.js';
import { importDirectory, type ImportResult } from '../directory/import-directory.js';
import { formatDirectoryError, type DirectoryErrorEntry } from '../directory/directory-types.js';
import type { RunningAgent } from '../shell/agent.js';
import type { Logger } from '../shell/logger.js';

/**
 * Validates `file` and applies it to the running agent's store in one
 * transaction (phones whose files changed are re-synced by the agent's change
 * listener). Resolves with the import result, or null after logging why nothing was applied
 * (never rejects).
 */
export async function reloadDirectory(agent: RunningAgent, file: string, log: Logger, now: number = Date.now()): Promise<ImportResult | null> {
  try {
    const directory = loadDirectoryFile(file);
    const result = await importDirectory(agent.store, directory, now);
    await agent.tail.drain();
    log.info('directory applied', { file });
    return result;
  } catch (e) {
    // Directory problems are written to be secret-free (`hotdesk import` prints them too).
    const problems =
      isHotdeskError(e) && Array.isArray(e.detail['errors']) ? (e.detail['errors'] as DirectoryErrorEntry[]).slice(0, 20).map(formatDirectoryError) : [];
    const fields: Record<string, unknown> = {
      file,
      code: isHotdeskError(e) ? e.code : 'internal',
      error: isHotdeskError(e) ? e.message.split('\n')[0] : `internal error (${e instanceof Error ? e.name : 'error'})`,
      ...(problems.length > 0 ? { problems } : {}),
    };
    log.error('directory not applied: the agent keeps the previous one', fields);
    return null;
  }
}

/** Options of {@link serveUntilStopped}. */
export interface LifecycleOptions {
  readonly log: Logger;
  /** Directory file re-read on SIGHUP. */
  readonly directoryFile?: string;
  /** Upper bound of the drain on SIGTERM (ms). */
  readonly shutdownMs: number;
  /** Reopens the log file (SIGHUP). */
  readonly reopenLogs?: () => void;
  /** Where "stopping" is announced. */
  readonly say: (text: string) => void;
}

/** Serves until SIGTERM/SIGINT, handling SIGHUP meanwhile; resolves once the agent is closed. */
export async function serveUntilStopped(agent: RunningAgent, o: LifecycleOptions): Promise<void> {
  const onHup = (): void => {
    try {
      o.reopenLogs?.();
    } catch (e) {
      process.stderr.write(`hotdesk: cannot reopen the log file: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    if (o.directoryFile !== undefined) void reloadDirectory(agent, o.directoryFile, o.log);
    else o.log.info('SIGHUP: logs reopened (no --directory file to re-read)');
  };
  process.on('SIGHUP', onHup);
  const sig = await new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  process.off('SIGHUP', onHup);
  o.say(`\n${sig}: stopping (draining for at most ${Math.round(o.shutdownMs / 100) / 10} s)\n`);
  // A second signal, or a close that hangs, must not keep the process alive past the bound.
  const hard = setTimeout(() => {
    o.log.error('shutdown exceeded its bound: exiting now');
    process.exit(1);
  }, o.shutdownMs + 5_000);
  hard.unref();
  const clean = await agent.drain(o.shutdownMs);
  if (!clean) o.log.warn('shutdown bound reached: requests or check-sync transactions still in flight were cut off');
  await agent.close();
  clearTimeout(hard);
}
