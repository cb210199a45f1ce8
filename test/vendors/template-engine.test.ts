import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { escapeKeyValue, escapeXml, TemplateEngine } from '../../agent/vendors/template-engine.js';
import { loadTemplateSources } from '../../agent/vendors/template-loader.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hotdesk-tpl-'));
  dirs.push(root);
  for (const [p, body] of Object.entries(files)) {
    const full = join(root, p);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, body);
  }
  return root;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('template lookup order', () => {
  it('site model dir beats site vendor dir beats shipped model dir beats shipped base', () => {
    const shipped = tree({
      'yealink/a.liquid': 'base-a',
      'yealink/b.liquid': 'base-b',
      'yealink/c.liquid': 'base-c',
      'yealink/d.liquid': 'base-d',
      'yealink/T46U/b.liquid': 'model-b',
      'yealink/T46U/c.liquid': 'model-c',
      'yealink/T46U/d.liquid': 'model-d',
    });
    const site = tree({ 'yealink/c.liquid': 'site-c', 'yealink/d.liquid': 'site-d', 'yealink/t46u/d.liquid': 'site-model-d' });
    const engine = new TemplateEngine(loadTemplateSources({ shippedDir: shipped, siteDir: site }));
    const r = (t: string, model = 'T46U'): string => engine.render({ vendor: 'yealink', model, template: t, format: 'kv', context: {} });
    expect(r('a')).toBe('base-a');
    expect(r('b')).toBe('model-b');
    expect(r('c')).toBe('site-c');
    expect(r('d')).toBe('site-model-d');
    expect(r('b', 'T54W')).toBe('base-b');
    expect(r('d', 'T54W')).toBe('site-d');
  });

  it('the shipped templates are used when the site dir does not exist', () => {
    const engine = new TemplateEngine(loadTemplateSources({ siteDir: join(tmpdir(), 'hotdesk-no-such-dir-xyz') }));
    expect(engine.has('yealink', 'T46U', 'mac.cfg')).toBe(true);
    expect(engine.has('snom', 'D785', 'mac.htm')).toBe(true);
    expect(engine.has('poly', 'VVX450', 'hotdesk.cfg')).toBe(true);
  });

  it('includes resolve only inside the template set (no file system escape)', () => {
    const shipped = tree({ 'snom/x.liquid': "{% render '../../../../etc/passwd' %}", 'snom/y.liquid': "{% include '/etc/hostname' %}" });
    const engine = new TemplateEngine(loadTemplateSources({ shippedDir: shipped }));
    for (const t of ['x', 'y']) {
      expect(
        isHotdeskError(
          thrown(() => engine.render({ vendor: 'snom', model: 'D785', template: t, format: 'xml', context: {} })),
          'template-error',
        ),
      ).toBe(true);
    }
  });

  it('is strict: unknown variables, unknown filters, missing templates are template-error', () => {
    const shipped = tree({ 'poly/v.liquid': '{{ nope }}', 'poly/f.liquid': '{{ "a" | frobnicate }}', 'poly/p.liquid': '{{ o.constructor }}' });
    const engine = new TemplateEngine(loadTemplateSources({ shippedDir: shipped }));
    const r = (t: string): unknown => thrown(() => engine.render({ vendor: 'poly', model: 'VVX450', template: t, format: 'xml', context: { o: {} } }));
    expect(isHotdeskError(r('v'), 'template-error')).toBe(true);
    expect(isHotdeskError(r('f'), 'template-error')).toBe(true);
    expect(isHotdeskError(r('p'), 'template-error')).toBe(true);
    expect(isHotdeskError(r('missing'), 'template-error')).toBe(true);
  });
});

describe('escaping', () => {
  it('xml escapes & < > " \'', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    const shipped = tree({ 'snom/e.liquid': '<a b="{{ v }}">{{ v }}</a>' });
    const engine = new TemplateEngine(loadTemplateSources({ shippedDir: shipped }));
    expect(engine.render({ vendor: 'snom', model: 'D785', template: 'e', format: 'xml', context: { v: `"><x y='1'>&` } })).toBe(
      '<a b="&quot;&gt;&lt;x y=&apos;1&apos;&gt;&amp;">&quot;&gt;&lt;x y=&apos;1&apos;&gt;&amp;</a>',
    );
  });

  it('key = value refuses CR, LF and NUL without echoing the value', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\0b']) {
      const e = thrown(() => escapeKeyValue(`secret${bad}`));
      expect(isHotdeskError(e, 'unsafe-value')).toBe(true);
      expect((e as Error).message).not.toContain('secret');
    }
    expect(escapeKeyValue('a&b<c> "d"')).toBe('a&b<c> "d"');
    const shipped = tree({ 'yealink/k.liquid': 'x = {{ v }}' });
    const engine = new TemplateEngine(loadTemplateSources({ shippedDir: shipped }));
    const e = thrown(() => engine.render({ vendor: 'yealink', model: 'T46U', template: 'k', format: 'kv', context: { v: 'ok\nstatic.evil = 1' } }));
    expect(isHotdeskError(e, 'unsafe-value')).toBe(true);
  });
});
