/**
 * Structured one-line logging for the shell: a thin adapter over pino (the
 * logger Fastify uses) with the agent's small {@link Logger} interface, so call
 * sites stay `log.info(msg, fields)`.
 *
 * Secrets never reach a line, whatever a call site passes:
 * - pino's `formatters.log` replaces every field whose *name* looks like a
 *   secret (password, pin, secret, token, credential, authorization, cookie:
 *   `provPassword`, `screenToken` too), at the top level and one level down;
 * - pino's `redact` censors the credential-carrying request headers
 *   (`req.headers.authorization`, cookies, `X-Hotdesk-Token`) and the plain
 *   secret names, also on lines Fastify writes itself.
 *
 * Output: JSON lines (`{"t","level","msg",...fields}`) with `json`, else one
 * readable line `<ISO time> <LEVEL> <msg> k=v ...` (a tiny formatter of our
 * own over pino's JSON, no extra dependency).
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const SECRET_KEY = /pass|pin|secret|token|credential|authorization|cookie/i;
const REDACTED = '[redacted]';

/**
 * pino `redact` paths: request headers that carry credentials (where Fastify
 * or a caller logs a request) and the plain secret names. Fixed paths only:
 * wildcard paths cost a walk of every logged object on every line.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'pin',
  'secret',
  'token',
  'credential',
  'authorization',
  'cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hotdesk-token"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-hotdesk-token"]',
];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Copies fields, replacing secret-named values with `[redacted]`, at the top level and one level down. */
export function redact(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = REDACTED;
    else if (isPlainObject(v)) {
      const inner: Record<string, unknown> = {};
      for (const [ik, iv] of Object.entries(v)) inner[ik] = SECRET_KEY.test(ik) ? REDACTED : iv;
      out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

const pinos = new WeakMap<Logger, PinoLogger>();

/** The pino instance behind a logger made by {@link createLogger} (Fastify's `loggerInstance`), if any. */
export function pinoOf(log: Logger): PinoLogger | undefined {
  return pinos.get(log);
}

/** Formats one pino JSON line as `<time> <LEVEL> <msg> k=v ...`. */
function plainLine(json: string): string {
  const { t, level, msg, ...rest } = JSON.parse(json) as Record<string, unknown>;
  const kv = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(t)} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? '')}${kv ? ` ${kv}` : ''}`;
}

/** A logger writing JSON lines (or readable text) to `write` (default standard error). */
export function createLogger(opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void; clock?: () => number } = {}): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const clock = opts.clock ?? Date.now;
  const json = opts.json === true;
  const destination = {
    write(chunk: string): void {
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
      write(json ? line : plainLine(line));
    },
  };
  const p = pino(
    {
      level: opts.level ?? 'info',
      messageKey: 'msg',
      base: null,
      timestamp: () => `,"t":"${new Date(clock()).toISOString()}"`,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj),
      },
    },
    destination,
  );
  const log: Logger = {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
  };
  pinos.set(log, p);
  return log;
}

/** A logger that drops everything (tests, `--quiet`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
