/**
 * The repository explains itself: no product file points at material a person
 * cloning the repository does not have (team notes outside the tree, issue
 * numbers of a tracker), and every relative link in the README and docs/
 * leads to a file (and heading) that exists. The behaviour spec is
 * docs/behaviour.md, the vendor facts docs/vendors.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../agent/paths.js';

/** Product directories and top-level files the rule applies to. */
const PRODUCT_DIRS = ['agent', 'test', 'docs', 'bench', 'scripts', 'provisioning-templates', 'firmware-profiles'];
const PRODUCT_FILES = ['README.md', 'Makefile'];

/**
 * What a product file must not mention. The patterns are assembled from parts
 * so that this file does not contain the strings it forbids.
 */
const FORBIDDEN: readonly { readonly what: string; readonly re: RegExp }[] = [
  { what: 'the team share outside the repository', re: new RegExp(['\\.\\.', 'shared\\b'].join('/')) },
  { what: 'the team share outside the repository', re: new RegExp(['', 'work', 'shared\\b'].join('/')) },
  { what: 'the team design notes', re: new RegExp(`\\b${'DESIGN'}\\.md\\b`) },
  { what: 'the team reference notes', re: new RegExp(`\\b${'reference'}/[A-Za-z0-9_-]+\\.md\\b`) },
  { what: 'an issue number', re: new RegExp(`\\b${'issue'}s?\\s*#?\\d+`, 'i') },
  { what: 'a team role instead of a document', re: new RegExp(`\\bthe (?:${['lead', 'brief'].join('|')})\\b`, 'i') },
];

/** Tracked (and new, not ignored) files under the product paths, relative to the root. */
function productFiles(): string[] {
  const inScope = (f: string): boolean => PRODUCT_FILES.includes(f) || PRODUCT_DIRS.some((d) => f.startsWith(`${d}/`));
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const files = out.split('\0').filter((f) => f !== '' && inScope(f) && existsSync(join(PROJECT_ROOT, f)));
    if (files.length > 0) return files;
  } catch {
    // not a git checkout (an unpacked release): walk the directories instead
  }
  const found: string[] = PRODUCT_FILES.filter((f) => existsSync(join(PROJECT_ROOT, f)));
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(rel);
      } else if (e.isFile()) {
        found.push(rel);
      }
    }
  };
  for (const d of PRODUCT_DIRS) if (existsSync(join(PROJECT_ROOT, d))) walk(d);
  return found;
}

/** Text of a file, or null for binary content. */
function textOf(rel: string): string | null {
  const buf = readFileSync(join(PROJECT_ROOT, rel));
  return buf.includes(0) ? null : buf.toString('utf8');
}

/** `file:line: text` for every forbidden mention in `text`. */
function forbiddenMentions(rel: string, text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const f of FORBIDDEN) {
      if (f.re.test(line)) hits.push(`${rel}:${i + 1}: ${f.what}: ${line.trim().slice(0, 160)}`);
    }
  });
  return hits;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to `-`; repeats get `-1`, `-2`. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    const base = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Link targets in `markdown` (inline and reference style), outside code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  let fenced = false;
  for (const raw of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) if (m[1]) targets.push(m[1]);
    const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
    if (ref?.[1]) targets.push(ref[1]);
  }
  return targets;
}

/** Problems with the relative links of one markdown file (`rel` relative to the root). */
function brokenLinks(rel: string): string[] {
  const abs = join(PROJECT_ROOT, rel);
  const text = readFileSync(abs, 'utf8');
  const problems: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // http:, mailto:, ...
    const hash = target.indexOf('#');
    const pathPart = decodeURI(hash >= 0 ? target.slice(0, hash) : target);
    const anchor = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : '';
    const file = pathPart === '' ? abs : resolve(dirname(abs), pathPart);
    const inside = relative(PROJECT_ROOT, file);
    if (inside.startsWith('..') || inside.split(sep).includes('..')) {
      problems.push(`${rel}: ${target} leaves the repository`);
      continue;
    }
    if (!existsSync(file)) {
      problems.push(`${rel}: ${target} does not exist`);
      continue;
    }
    if (anchor !== '' && file.endsWith('.md') && statSync(file).isFile() && !headingAnchors(readFileSync(file, 'utf8')).has(anchor)) {
      problems.push(`${rel}: ${target} names no heading of ${relative(PROJECT_ROOT, file)}`);
    }
  }
  return problems;
}

describe('the repository explains itself', () => {
  const files = productFiles();

  it('finds the product files it checks', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/behaviour.md');
    expect(files).toContain('docs/vendors.md');
    expect(files.some((f) => f.startsWith('agent/core/'))).toBe(true);
  });

  it('no product file points at team notes outside the repository, issue numbers or team roles', () => {
    const hits = files.flatMap((f) => {
      const text = textOf(f);
      return text === null ? [] : forbiddenMentions(f, text);
    });
    expect(hits).toEqual([]);
  });

  it('every relative link in README.md and docs/*.md leads to an existing file and heading', () => {
    const docs = readdirSync(join(PROJECT_ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    expect(docs.flatMap(brokenLinks).concat(brokenLinks('README.md'))).toEqual([]);
  });

  it('section references in product files name sections that exist', () => {
    const headings = (doc: string): string[] =>
      readFileSync(join(PROJECT_ROOT, 'docs', doc), 'utf8')
        .split('\n')
        .filter((l) => /^#{2,3} /.test(l))
        .map((l) => l.replace(/^#+ /, ''));
    const behaviour = new Set(
      headings('behaviour.md')
        .map((h) => /^(\d+)\. /.exec(h)?.[1])
        .filter((n) => n !== undefined),
    );
    const vendors = headings('vendors.md');
    const bad: string[] = [];
    for (const f of files) {
      const text = textOf(f);
      if (text === null) continue;
      text.split('\n').forEach((line, i) => {
        // `docs/behaviour.md §2`, `§2-§6`, `§3, §6`: every § number up to the end of the reference.
        for (const m of line.matchAll(/behaviour\.md((?:[\s,;and-]*§\d+)+)/g)) {
          for (const n of (m[1] ?? '').matchAll(/§(\d+)/g)) if (!behaviour.has(n[1] ?? '')) bad.push(`${f}:${i + 1}: behaviour.md §${n[1]}`);
        }
        // `docs/vendors.md "Check-sync"`: a heading starting with the quoted words (when on one line).
        for (const m of line.matchAll(/vendors\.md,? "([^"]+)"/g)) {
          const title = m[1] ?? '';
          if (!vendors.some((h) => h.startsWith(title))) bad.push(`${f}:${i + 1}: no heading of docs/vendors.md starts with ${title}`);
        }
      });
    }
    expect(bad).toEqual([]);
  });

  it('links the behaviour spec and the vendor facts from the README', () => {
    const readme = linkTargets(readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8'));
    expect(readme).toContain('docs/behaviour.md');
    expect(readme).toContain('docs/vendors.md');
  });
});

describe('the checks themselves', () => {
  it('catch each kind of outside reference', () => {
    const parts = [
      ['see ', '..', '/shared/', 'DESIGN', '.md'],
      ['(', 'DESIGN', '.md §2)'],
      ['reference', '/phones.md "SIP PnP"'],
      ['reference', '/hotdesk-line.md'],
      ['Issue', ' 6 acceptance'],
      ['(', 'issue', ' #12)'],
      ['ask ', 'the ', 'lead'],
      ['where ', 'the ', 'brief', ' says'],
    ].map((p) => p.join(''));
    for (const line of parts) expect(forbiddenMentions('x.ts', line), line).not.toEqual([]);
  });

  it('let ordinary prose and RFC citations through', () => {
    for (const line of [
      'RFC 3261 §17.1.2',
      'docs/behaviour.md §6',
      'the leading zeros',
      'a brief outage',
      'issues are tracked',
      'firmware-profiles/schema.json',
    ]) {
      expect(forbiddenMentions('x.ts', line), line).toEqual([]);
    }
  });

  it('read links and anchors the way GitHub renders them', () => {
    const md =
      '# A title\n\n## 2. The feature code\n\n## Action URLs (the outgoing-call hook)\n\n```\n[not](a-link.md)\n```\n[x](vendors.md#check-sync) `[no](code.md)` ![img](pic.png)\n[ref]: ./api.md\n';
    expect(linkTargets(md)).toEqual(['vendors.md#check-sync', 'pic.png', './api.md']);
    expect([...headingAnchors(md)]).toEqual(['a-title', '2-the-feature-code', 'action-urls-the-outgoing-call-hook']);
  });
});
