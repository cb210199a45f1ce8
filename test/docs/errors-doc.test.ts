import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HotdeskError } from '../../agent/core/errors.js';
import { HTTP_STATUS, problemBody } from '../../agent/shell/http/http-errors.js';
import { PROJECT_ROOT } from '../../agent/paths.js';
import { SIP_STATUS } from '../../agent/shell/voice/sip-errors.js';

describe('error code documentation', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'errors.md'), 'utf8');

  it('lists every code of the catalog', () => {
    const missing = ERROR_CODES.filter((c) => !doc.includes(`| \`${c}\` |`));
    expect(missing).toEqual([]);
  });

  it('lists no code that does not exist', () => {
    const listed = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(listed.filter((c) => !(ERROR_CODES as string[]).includes(c!))).toEqual([]);
  });

  it('documents the HTTP status each code maps to', () => {
    for (const c of ERROR_CODES) expect(doc).toContain(`| \`${c}\` | ${HTTP_STATUS[c]} |`);
  });

  it('documents the SIP status each code maps to', () => {
    for (const c of ERROR_CODES) expect(doc).toContain(`| \`${c}\` | ${HTTP_STATUS[c]} | ${SIP_STATUS[c]} |`);
    for (const c of ERROR_CODES) expect(SIP_STATUS[c]).toBeGreaterThanOrEqual(400);
  });

  it('maps every code to a valid HTTP status', () => {
    for (const c of ERROR_CODES) expect(HTTP_STATUS[c]).toBeGreaterThanOrEqual(400);
  });

  it('never echoes internal error text in problem bodies', () => {
    const body = JSON.parse(problemBody(new HotdeskError('internal', 'db password=secret leaked'))) as { detail: string; code: string };
    expect(body.code).toBe('internal');
    expect(body.detail).not.toContain('secret');
  });
});
