/**
 * Structured one-line logging for the shell. Field values are redacted by
 * name: anything that looks like a secret (password, pin, token, credential,
 * authorization) is replaced before the line is written, so a careless call
 * site cannot leak a secret into the log.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass|pin|secret|token|credential|authorization|cookie/i;

/** Copies fields, replacing secret-named values with `[redacted]`. */
export function redact(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : v;
  }
  return out;
}

/** A logger writing JSON lines (or readable text) to a stream. */
export function createLogger(opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void; clock?: () => number } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const clock = opts.clock ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (ORDER[level] < min) return;
    const safe = redact(fields);
    if (opts.json) {
      write(JSON.stringify({ t: new Date(clock()).toISOString(), level, msg, ...safe }));
    } else {
      const kv = Object.entries(safe)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${new Date(clock()).toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? ' ' + kv : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that drops everything (tests, `--quiet`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
