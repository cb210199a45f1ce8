/**
 * A log destination that appends to a file and can be reopened (SIGHUP after
 * logrotate moved the file away), or standard error when no file is given
 * (systemd's journal captures it).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** A line writer with a reopen hook. */
export interface LogSink {
  write(line: string): void;
  /** Reopens the file (no-op for standard error). */
  reopen(): void;
  close(): void;
}

/** Appends lines to `path` (mode 0640), or to standard error when `path` is undefined. */
export function openLogSink(path: string | undefined): LogSink {
  if (path === undefined) {
    return { write: (line) => void process.stderr.write(`${line}\n`), reopen() {}, close() {} };
  }
  let fd = openSync(path, 'a', 0o640);
  return {
    write(line) {
      try {
        writeSync(fd, `${line}\n`);
      } catch {
        process.stderr.write(`${line}\n`);
      }
    },
    reopen() {
      const next = openSync(path, 'a', 0o640);
      const old = fd;
      fd = next;
      closeSync(old);
    },
    close() {
      closeSync(fd);
    },
  };
}
