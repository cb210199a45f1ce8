/**
 * The pino-backed logger adapter: the agent's `Logger` interface, levels,
 * JSON and plain lines, and redaction of secrets by field name, one level
 * down and in request headers.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, pinoOf, silentLogger } from '../../agent/shell/logger.js';

const AT = Date.parse('2026-01-02T03:04:05.000Z');

function capture(json: boolean, level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, json, write: (l) => lines.push(l), clock: () => AT });
  return { log, lines };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const { log, lines } = capture(true);
    log.info('file served', { mac: '001565aabb01', secret: true, n: 3 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      t: '2026-01-02T03:04:05.000Z',
      level: 'info',
      msg: 'file served',
      mac: '001565aabb01',
      secret: '[redacted]',
      n: 3,
    });
  });

  it('writes plain lines without --json-logs', () => {
    const { log, lines } = capture(false);
    log.warn('close failed', { error: 'boom', port: 8080 });
    log.info('hello');
    expect(lines).toEqual(['2026-01-02T03:04:05.000Z WARN  close failed error=boom port=8080', '2026-01-02T03:04:05.000Z INFO  hello']);
  });

  it('drops lines below the level', () => {
    const { log, lines } = capture(true, 'warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['w', 'e']);
  });

  it.each([true, false])('never writes a secret, whatever the field is called or where it sits (json %s)', (json) => {
    const { log, lines } = capture(json);
    log.debug('request', {
      provPassword: 'pw-1',
      pin: '4321',
      screenToken: 'tok-2',
      apiToken: 'tok-3',
      credential: 'bootstrap:pw-4',
      nested: { password: 'pw-5', pin: '8765', ok: 'visible' },
      headers: { authorization: 'Digest username="u", response="pw-6"', cookie: 'sid=pw-7', 'x-hotdesk-token': 'tok-8' },
      req: { headers: { authorization: 'Bearer tok-9' } },
    });
    const text = lines.join('\n');
    for (const s of ['pw-1', '4321', 'tok-2', 'tok-3', 'pw-4', 'pw-5', '8765', 'pw-6', 'pw-7', 'tok-8', 'tok-9']) expect(text).not.toContain(s);
    expect(text).toContain('visible');
    expect(text).toContain('[redacted]');
  });

  it('exposes its pino instance for Fastify; the silent logger has none', () => {
    const { log, lines } = capture(true);
    const p = pinoOf(log);
    expect(p).toBeDefined();
    p?.warn({ password: 'pw-x' }, 'from fastify');
    expect(lines.join('\n')).not.toContain('pw-x');
    expect(pinoOf(silentLogger)).toBeUndefined();
  });
});
