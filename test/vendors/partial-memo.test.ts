import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { isPhoneIndependent, markPhoneIndependent, MemoForTag, MemoRenderTag } from '../../agent/vendors/partial-memo.js';
import { escapeXml, TemplateEngine } from '../../agent/vendors/template-engine.js';

const shared = <T extends object>(v: T): T => markPhoneIndependent(Object.freeze(v));

/** Same options as the engine; `memo` adds the memoising tags. */
function liquid(templates: Record<string, string>, memo: boolean): Liquid {
  const l = new Liquid({ templates, strictVariables: true, strictFilters: true, ownPropertyOnly: true, outputEscape: escapeXml });
  if (memo) {
    l.registerTag('render', MemoRenderTag);
    l.registerTag('for', MemoForTag);
  }
  return l;
}

const PARTIALS = {
  p: '[{{ a.i }}:{{ a.s }}]',
  q: '({{ a.i }}/{{ b.i }})',
  trimmed: '{%- # one entry %}\n  e.{{ a.i }} = {{ a.s }}\n{%- # end -%}\n',
};

/** The cleared slots, interned once as the render context does. */
const CLEARED = new Map([1, 3, 5].map((i) => [i, shared({ i, s: '' })]));

/** Every slot 1..5 cleared (shared) except 2 and 4, which carry a phone's own values. */
function context(secret: string): Record<string, unknown> {
  const xs = [1, 2, 3, 4, 5].map((i) => CLEARED.get(i) ?? Object.freeze({ i, s: `${secret}-${i}` }));
  return { xs, empty: [], one: xs[0], two: xs[2], own: xs[1], nested: { x: xs[0] } };
}

const CASES: Record<string, string> = {
  loop: '{% for a in xs %}{% render "p", a: a %}{% endfor %}',
  trimmedLoop: 'A\n{%- for a in xs %}\n{%- render "trimmed", a: a %}\n{%- endfor %}/>',
  literalBody: '{% for a in xs %}<{% render "p", a: a %}>{% endfor %}',
  limit: '{% for a in xs limit: 2 %}{% render "p", a: a %}{% endfor %}',
  offsetReversed: '{% for a in xs offset: 1 reversed %}{% render "p", a: a %}{% endfor %}',
  continueOffset: '{% for a in xs %}{% render "p", a: a %}{% endfor %}|{% for a in xs offset: continue %}{% render "p", a: a %}{% endfor %}',
  forloopInBody: '{% for a in xs %}{{ forloop.index }}{% render "p", a: a %}{% endfor %}',
  elseBranch: '{% for a in empty %}{% render "p", a: a %}{% else %}none{% endfor %}',
  outsideLoop: '{% render "p", a: one %}{% render "p", a: own %}{% render "p", a: one %}',
  twoArgs: '{% render "q", a: one, b: two %}{% render "q", a: two, b: one %}{% render "q", a: one, b: one %}',
  property: '{% render "p", a: nested.x %}',
  forBinding: '{% render "p" for xs as a %}',
  otherVariable: '{% for a in xs %}{% render "q", a: a, b: one %}{% endfor %}',
};

describe('memoised render and for tags', () => {
  for (const [name, src] of Object.entries(CASES)) {
    it(`${name}: the same text as plain liquidjs, first time and from the memo`, () => {
      const plain = liquid({ ...PARTIALS, t: src }, false);
      const memo = liquid({ ...PARTIALS, t: src }, true);
      const tpl = memo.parseFileSync('t');
      for (const secret of ['alpha', 'beta']) {
        const want = plain.renderFileSync('t', context(secret));
        expect(memo.renderSync(tpl, context(secret))).toBe(want);
        expect(memo.renderSync(tpl, context(secret))).toBe(want);
      }
    });
  }

  it('never reuses the text of a phone-specific value: each render shows its own', () => {
    const l = liquid({ ...PARTIALS, t: CASES['loop'] ?? '' }, true);
    const tpl = l.parseFileSync('t');
    expect(l.renderSync(tpl, context('first'))).toContain('first-2');
    const second = l.renderSync(tpl, context('second'));
    expect(second).toContain('[2:second-2]');
    expect(second).not.toContain('first');
  });

  it('renders a shared slot once and a phone-specific one every time', () => {
    const l = liquid({ p: '{{ a.i | seen }}', t: CASES['loop'] ?? '' }, true);
    const seen: number[] = [];
    l.registerFilter('seen', (i: number) => {
      seen.push(i);
      return i;
    });
    const tpl = l.parseFileSync('t');
    expect(l.renderSync(tpl, context('x'))).toBe('12345');
    expect(l.renderSync(tpl, context('y'))).toBe('12345');
    expect(seen).toEqual([1, 2, 3, 4, 5, 2, 4]);
    // The very same unmarked object given again is still rendered again: nothing of it was kept.
    const own = Object.freeze({ i: 9, s: 'secret' });
    seen.length = 0;
    l.renderSync(tpl, { xs: [own] });
    l.renderSync(tpl, { xs: [own] });
    expect(seen).toEqual([9, 9]);
  });

  it('equal-looking shared values with another content render their own text', () => {
    const l = liquid({ ...PARTIALS, t: '{% render "p", a: x %}' }, true);
    const tpl = l.parseFileSync('t');
    expect(l.renderSync(tpl, { x: shared({ i: 1, s: 'none' }) })).toBe('[1:none]');
    expect(l.renderSync(tpl, { x: shared({ i: 1, s: 'Unassigned' }) })).toBe('[1:Unassigned]');
    expect(l.renderSync(tpl, { x: shared({ i: 1, s: 'none' }) })).toBe('[1:none]');
  });

  it('remembered text keeps the format escaping', () => {
    const l = liquid({ ...PARTIALS, t: CASES['loop'] ?? '' }, true);
    const tpl = l.parseFileSync('t');
    const xs = [shared({ i: 1, s: 'a&b<c>' })];
    expect(l.renderSync(tpl, { xs })).toBe('[1:a&amp;b&lt;c&gt;]');
    expect(l.renderSync(tpl, { xs })).toBe('[1:a&amp;b&lt;c&gt;]');
  });

  it('an error in a partial is the same error on every call (nothing remembered)', () => {
    const l = liquid({ p: '{{ a.missing }}', t: CASES['loop'] ?? '' }, true);
    const tpl = l.parseFileSync('t');
    const xs = [shared({ i: 1 })];
    expect(() => l.renderSync(tpl, { xs })).toThrow(/undefined variable: a.missing/);
    expect(() => l.renderSync(tpl, { xs })).toThrow(/undefined variable: a.missing/);
  });

  it('only frozen values can be marked', () => {
    expect(() => markPhoneIndependent({ i: 1 })).toThrow(TypeError);
    const v = shared({ i: 1 });
    expect(isPhoneIndependent(v)).toBe(true);
    expect(isPhoneIndependent(Object.freeze({ i: 1 }))).toBe(false);
    expect(isPhoneIndependent(null)).toBe(false);
  });
});

describe('memo keying in the engine: site overrides and models never share text', () => {
  const slot = shared({ index: 1, active: false });
  const ctx = { accounts: [slot] };
  const main = '{%- for a in accounts %}{% render "account", a: a %}{% endfor %}';

  it('a model override of a partial gives that model its own text, the others the shipped text', () => {
    const engine = new TemplateEngine({
      shipped: { 'yealink/mac.cfg.liquid': main, 'yealink/account.liquid': 'shipped {{ a.index }}' },
      site: { 'yealink/T46U/account.liquid': 'site {{ a.index }}' },
    });
    const render = (model: string): string => engine.render({ vendor: 'yealink', model, template: 'mac.cfg', format: 'kv', context: ctx });
    for (let i = 0; i < 2; i += 1) {
      expect(render('T46U')).toBe('site 1');
      expect(render('T48U')).toBe('shipped 1');
    }
  });

  it('another engine (templates reloaded after a site edit) renders the edited partial', () => {
    const before = new TemplateEngine({ shipped: { 'snom/m.liquid': main, 'snom/account.liquid': 'old {{ a.index }}' }, site: {} });
    const after = new TemplateEngine({
      shipped: { 'snom/m.liquid': main, 'snom/account.liquid': 'old {{ a.index }}' },
      site: { 'snom/account.liquid': 'new {{ a.index }}' },
    });
    const req = { vendor: 'snom', model: 'D785', template: 'm', format: 'xml', context: ctx } as const;
    expect(before.render(req)).toBe('old 1');
    expect(after.render(req)).toBe('new 1');
    expect(before.render(req)).toBe('old 1');
  });

  it('the xml and kv flavours of one partial are remembered apart', () => {
    const engine = new TemplateEngine({ shipped: { 'poly/m.liquid': main, 'poly/account.liquid': '{{ a.index }}{{ "<x>" }}' }, site: {} });
    const req = { vendor: 'poly', model: 'VVX450', template: 'm', context: ctx } as const;
    expect(engine.render({ ...req, format: 'xml' })).toBe('1&lt;x&gt;');
    expect(engine.render({ ...req, format: 'kv' })).toBe('1<x>');
    expect(engine.render({ ...req, format: 'xml' })).toBe('1&lt;x&gt;');
  });
});
