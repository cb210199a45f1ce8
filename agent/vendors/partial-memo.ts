/**
 * Memoised `{% render 'partial', name: value %}` for phone-independent
 * arguments.
 *
 * A Liquid `render` partial runs in a scope of its own: it sees only the
 * arguments it is given (liquidjs "render" tag: no access to the caller's
 * variables), so its output is a function of the partial's source, the
 * engine's options (the per-format escaper) and those arguments. The render
 * context marks the values that are the same for every phone — a cleared
 * account slot, an unused key slot — with {@link markPhoneIndependent}; when
 * every argument of a `render` is such a value, the tag renders the partial
 * once and then writes the remembered text. Anything else (a phone's own
 * account, a key with a label, `with`/`for` forms, a partial named by a
 * variable) renders normally, so a phone's values are never remembered.
 *
 * Keying: the memo lives on the parsed tag, which belongs to one parsed
 * template of one Liquid instance (one vendor, model, output format and
 * merged site/shipped template set); inside it, the key is the identity of
 * each argument object. Marked objects are frozen and interned by value
 * (render-slots.ts), so equal values share one entry and different values
 * (another index, another profile's key code) never share one.
 *
 * Pure module.
 */
import { type Context, type Emitter, evalToken, ForTag, RenderTag, TypeGuards } from 'liquidjs';

const independent = new WeakSet<object>();
const ids = new WeakMap<object, number>();
let nextId = 1;

/** Entries one `render` tag remembers at most (far above any profile's slot count). */
const MAX_ENTRIES_PER_TAG = 4096;

/**
 * Marks a frozen object as the same for every phone (its output may be shared
 * between phones). Returns it. Throws TypeError for an unfrozen object: a
 * remembered output must not go stale.
 */
export function markPhoneIndependent<T extends object>(value: T): T {
  if (!Object.isFrozen(value)) throw new TypeError('only a frozen value can be marked phone-independent');
  independent.add(value);
  return value;
}

/** True when `value` was marked with {@link markPhoneIndependent}. */
export function isPhoneIndependent(value: unknown): boolean {
  return typeof value === 'object' && value !== null && independent.has(value);
}

function idOf(value: object): number {
  let id = ids.get(value);
  if (id === undefined) {
    id = nextId;
    nextId += 1;
    ids.set(value, id);
  }
  return id;
}

/** The liquidjs render tag's parsed parts this tag reads (not in its public typings). */
interface RenderTagParts {
  readonly file: unknown;
  readonly with?: unknown;
  readonly forBinding?: unknown;
  readonly hash: { readonly hash: Record<string, unknown> };
}

/** A scope lookup the tag may do itself: `name: variable` with a bare variable name. */
interface PlainArg {
  readonly name: string;
  readonly variable: string;
}

/** Context internals the fast lookup reads (liquidjs Context; `findScope` is not in its typings). */
interface ScopeLookup {
  findScope(key: string): unknown;
}

/** Names liquidjs reads specially on any object (`size`, `first`, `last`): never looked up here. */
const SPECIAL = new Set(['size', 'first', 'last']);

/**
 * The `name: variable` arguments of a tag when every argument is a bare
 * variable (`a: a`), else null. Token shapes: liquidjs PropertyAccessToken
 * (no `variable`, one identifier in `props`).
 */
function plainArgs(hash: Record<string, unknown>): PlainArg[] | null {
  const out: PlainArg[] = [];
  for (const [name, token] of Object.entries(hash)) {
    const t = token as { variable?: unknown; props?: readonly { content?: unknown }[] } | undefined;
    const prop = t?.props?.length === 1 ? t.props[0] : undefined;
    if (t === undefined || t.variable !== undefined || typeof prop?.content !== 'string' || SPECIAL.has(prop.content)) return null;
    out.push({ name, variable: prop.content });
  }
  return out;
}

/** A memo key, and the argument object when every argument names the same variable. */
interface MemoKey {
  readonly key: string;
  readonly single: object | undefined;
}

/**
 * The memo key of `args` when each is a bare variable holding a
 * phone-independent value in the current scope, else null (the caller then
 * renders the normal way). Same lookup as liquidjs's for such a variable: the
 * innermost scope having the name, its own property.
 */
function fastKey(ctx: Context, args: readonly PlainArg[]): MemoKey | null {
  let key = '';
  let single: object | undefined;
  for (const a of args) {
    const scope = (ctx as unknown as ScopeLookup).findScope(a.variable);
    if (typeof scope !== 'object' || scope === null || !Object.hasOwn(scope, a.variable)) return null;
    if (typeof (scope as { toLiquid?: unknown }).toLiquid === 'function') return null;
    const v = (scope as Record<string, unknown>)[a.variable];
    if (typeof v !== 'object' || v === null || !independent.has(v)) return null;
    key += `${a.name}=${idOf(v)};`;
    if (a === args[0]) single = v;
    else if (a.variable !== args[0]?.variable) single = undefined;
  }
  return { key, single };
}

/** liquidjs's `render` tag, remembering the output of calls whose arguments are all phone-independent. */
export class MemoRenderTag extends RenderTag {
  private readonly memo = new Map<string, string>();
  /** Output by argument value, for calls whose arguments all name one variable (what {@link MemoForTag} asks). */
  private readonly byValue = new WeakMap<object, string>();
  /** The arguments when the tag can be memoised (literal partial name, bare-variable arguments), else null. */
  private plan: PlainArg[] | null | undefined;

  private args(): PlainArg[] | null {
    if (this.plan === undefined) {
      const parts = this as unknown as RenderTagParts;
      const simple = typeof parts.file === 'string' && parts.with === undefined && parts.forBinding === undefined;
      this.plan = simple ? plainArgs(parts.hash.hash) : null;
    }
    return this.plan;
  }

  /** True when the tag can be memoised and every argument is the variable `name`. */
  readsOnly(name: string): boolean {
    const args = this.args();
    return args?.every((a) => a.variable === name) === true;
  }

  /** The remembered output for arguments that all hold `value` (see {@link readsOnly}), if any. */
  memoOf(value: object): string | undefined {
    return this.args()?.length === 0 ? this.memo.get('') : this.byValue.get(value);
  }

  override *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const args = this.args();
    const k = args === null ? null : fastKey(ctx, args);
    if (k === null) {
      yield* super.render(ctx, emitter);
      return;
    }
    const hit = this.memo.get(k.key);
    if (hit !== undefined) {
      emitter.write(hit);
      return;
    }
    const sub = new (emitter.constructor as new () => Emitter)();
    yield* super.render(ctx, sub);
    const text = sub.buffer;
    if (typeof text === 'string' && this.memo.size < MAX_ENTRIES_PER_TAG) {
      this.memo.set(k.key, text);
      if (k.single !== undefined) this.byValue.set(k.single, text);
    }
    emitter.write(text);
  }
}

/** The liquidjs for tag's parsed parts this tag reads (not in its public typings). */
interface ForTagParts {
  readonly variable: string;
  readonly collection: { getText(): string };
  readonly hash: { readonly hash: Record<string, unknown> };
  readonly templates: readonly unknown[];
}

/** A body template the fast loop can write itself: literal text, or a memoising render of the loop variable. */
type BodyPart = { readonly text: string } | { readonly tag: MemoRenderTag };

/**
 * liquidjs's `for` tag, with a fast path for loops like
 * `{% for a in accounts %}{% render 'account', a: a %}{% endfor %}`: when the
 * loop has no modifiers and its body is only literal text and memoising
 * `render` tags reading only the loop variable, an item that is
 * phone-independent and already rendered once is written from the memo
 * without entering the template machinery. Every other item renders
 * normally. The body cannot see `forloop` (a `render` partial sees only its
 * arguments), so the fast path is indistinguishable from the loop.
 */
export class MemoForTag extends ForTag {
  private body: readonly BodyPart[] | null | undefined;

  private plan(): readonly BodyPart[] | null {
    if (this.body !== undefined) return this.body;
    const parts = this as unknown as ForTagParts;
    const out: BodyPart[] = [];
    let ok = Object.keys(parts.hash.hash).length === 0 && parts.variable !== 'forloop';
    for (const t of parts.templates) {
      if (!ok) break;
      if (t instanceof MemoRenderTag && t.readsOnly(parts.variable)) out.push({ tag: t });
      else if (isLiteral(t)) out.push({ text: t.str });
      else ok = false;
    }
    this.body = ok && out.some((b) => 'tag' in b) ? out : null;
    return this.body;
  }

  override *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const body = this.plan();
    const parts = this as unknown as ForTagParts;
    const collection = body === null ? undefined : yield evalToken(parts.collection as never, ctx);
    if (body === null || !Array.isArray(collection) || collection.length === 0) {
      yield* super.render(ctx, emitter) as Generator<unknown, void, unknown>;
      return;
    }
    // What the for tag records for a later `offset: continue` (no modifiers: the collection's length).
    ctx.setRegister(`continue-${parts.variable}-${parts.collection.getText()}`, collection.length);
    const scope: Record<string, unknown> = {};
    ctx.push(scope);
    for (const item of collection as unknown[]) {
      if (typeof item === 'object' && item !== null && independent.has(item) && writeRemembered(body, item, emitter)) continue;
      scope[parts.variable] = item;
      yield this.liquid.renderer.renderTemplates(parts.templates as never, ctx, emitter);
    }
    ctx.pop();
  }
}

/** Writes the loop body for `item` from the memos; false (nothing written) when one is missing. */
function writeRemembered(body: readonly BodyPart[], item: object, emitter: Emitter): boolean {
  let out = '';
  for (const b of body) {
    const text = 'tag' in b ? b.tag.memoOf(item) : b.text;
    if (text === undefined) return false;
    out += text;
  }
  emitter.write(out);
  return true;
}

/** A liquidjs literal-text template (class HTML: an HTML token and its `str`). */
function isLiteral(t: unknown): t is { readonly str: string } {
  const x = t as { token?: unknown; str?: unknown };
  return typeof x.str === 'string' && TypeGuards.isHTMLToken(x.token as never);
}
