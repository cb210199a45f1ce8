import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_KINDS } from '../../agent/core/model.js';
import { PROJECT_ROOT } from '../../agent/paths.js';

/** The rows of the "Event kinds" table of docs/api.md. */
function documentedKinds(): string[] {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'api.md'), 'utf8');
  const start = doc.indexOf('### Event kinds');
  expect(start, 'docs/api.md has an "Event kinds" section').toBeGreaterThanOrEqual(0);
  const rest = doc.slice(doc.indexOf('\n', start) + 1);
  const end = rest.search(/^#{1,3} /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe('audit kinds documentation', () => {
  it('docs/api.md lists every audit kind, and only those', () => {
    const listed = documentedKinds();
    expect(listed.filter((k) => !(AUDIT_KINDS as readonly string[]).includes(k))).toEqual([]);
    expect(AUDIT_KINDS.filter((k) => !listed.includes(k))).toEqual([]);
  });

  it('the list has no duplicates', () => {
    expect(new Set(AUDIT_KINDS).size).toBe(AUDIT_KINDS.length);
  });
});
