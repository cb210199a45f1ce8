/**
 * The layering the README promises, checked on the real import graph of `agent/`: no import
 * cycle; the pure core imports only itself; protocols import only themselves and the core;
 * the store never imports vendors or the shell; the directory never imports the shell; every
 * file stays under 400 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const AGENT = join(ROOT, 'agent');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const IMPORT_RE = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const files = sources(AGENT);
const rel = (f: string): string => relative(ROOT, f).split('\\').join('/');
const graph = new Map<string, string[]>(
  files.map((f) => [rel(f), [...readFileSync(f, 'utf8').matchAll(IMPORT_RE)].map((m) => rel(normalize(join(dirname(f), m[1] ?? '')).replace(/\.js$/, '.ts')))]),
);

/** Strongly connected components with more than one file (Tarjan). */
function cycles(): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop() ?? v;
        onStack.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1) found.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture of agent/', () => {
  it('reads every source file and its relative imports', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('agent/shell/agent.ts')?.length).toBeGreaterThan(10);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps the layers: core pure, protocols on core only, store and directory off the shell and vendors', () => {
    const broken: string[] = [];
    for (const [from, deps] of graph) {
      for (const to of deps) {
        const bad =
          (from.startsWith('agent/core/') && !to.startsWith('agent/core/')) ||
          (from.startsWith('agent/protocols/') && !to.startsWith('agent/protocols/') && !to.startsWith('agent/core/')) ||
          (from.startsWith('agent/store/') && (to.startsWith('agent/vendors/') || to.startsWith('agent/shell/'))) ||
          (from.startsWith('agent/directory/') && to.startsWith('agent/shell/'));
        if (bad) broken.push(`${from} -> ${to}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('keeps every file under 400 lines', () => {
    const long = files.map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });
});
