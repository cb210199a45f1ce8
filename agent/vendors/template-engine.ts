/**
 * Sandboxed provisioning-template rendering (liquidjs) over template sources
 * already loaded by the shell (template-loader.ts). Pure given those sources:
 * no file system access, includes (`{% render 'name' %}`) resolve only inside
 * the merged in-memory set.
 *
 * Lookup order for a phone of `<vendor>`/`<model>` (first hit wins):
 * 1. site `templates/<vendor>/<model>/`   2. site `templates/<vendor>/`
 * 3. `provisioning-templates/<vendor>/<model>/`   4. `provisioning-templates/<vendor>/`
 *
 * Escaping per output format (docs/templates.md "Sandbox and
 * escaping"): `xml` escapes `& < > " '` in every `{{ }}` output; `kv`
 * (`key = value` files) refuses CR, LF and NUL with HotdeskError('unsafe-value')
 * so a value can never start a new configuration line. Liquid runs with
 * strictVariables, strictFilters and ownPropertyOnly.
 *
 * Speed: each template is parsed once per engine (per vendor/model/format),
 * and a `render` partial whose arguments are all phone-independent (cleared
 * slots) is rendered once and its text reused (partial-memo.ts).
 */
import { Liquid, type Template } from 'liquidjs';
import { HotdeskError, isHotdeskError } from '../core/errors.js';
import type { Vendor } from '../core/model.js';
import { MemoForTag, MemoRenderTag } from './partial-memo.js';
import { xmlEscape } from './xml-escape.js';

/** Output format of a generated file, selecting its escaper. */
export type OutputFormat = 'xml' | 'kv';

/**
 * Template sources keyed by relative path: `<vendor>/<name>.liquid` or
 * `<vendor>/<model>/<name>.liquid` (model directory names are matched
 * case-insensitively).
 */
export type TemplateTree = Readonly<Record<string, string>>;

/** The shipped templates plus the site's overrides. */
export interface TemplateSources {
  readonly shipped: TemplateTree;
  readonly site: TemplateTree;
}

/** Template file suffix. */
export const TEMPLATE_EXT = '.liquid';

/** XML text/attribute escaper: `& < > " '` (see xml-escape.ts). */
export function escapeXml(value: unknown): string {
  return xmlEscape(stringify(value));
}

/**
 * `key = value` escaper: returns the value unchanged and throws
 * HotdeskError('unsafe-value') on CR, LF or NUL. The message never holds the value.
 */
export function escapeKeyValue(value: unknown): string {
  const s = stringify(value);
  if (/[\r\n\0]/.test(s)) throw new HotdeskError('unsafe-value', 'a value holds CR, LF or NUL and cannot be written into a key = value file');
  return s;
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(stringify).join('');
  return String(value);
}

/**
 * Merges the four layers for one vendor/model into `name -> source`
 * (names without the `.liquid` suffix and without directories).
 */
export function resolveTemplateSet(sources: TemplateSources, vendor: Vendor, model: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  const m = model.toLowerCase();
  const layer = (tree: TemplateTree, withModel: boolean): void => {
    for (const [path, src] of Object.entries(tree).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const parts = path.split('/');
      if (parts[0] !== vendor) continue;
      if (!withModel && parts.length === 2 && parts[1] !== undefined) out[parts[1]] = src;
      if (withModel && parts.length === 3 && parts[1]?.toLowerCase() === m && parts[2] !== undefined) out[parts[2]] = src;
    }
  };
  layer(sources.shipped, false);
  layer(sources.shipped, true);
  layer(sources.site, false);
  layer(sources.site, true);
  return out;
}

/** What to render. */
export interface RenderRequest {
  readonly vendor: Vendor;
  readonly model: string;
  /** Template name without `.liquid`, e.g. `mac.cfg`. */
  readonly template: string;
  readonly format: OutputFormat;
  /** The (frozen) render context. */
  readonly context: object;
}

/** Renders templates; caches one Liquid instance (and its parsed templates) per vendor/model/format. */
export class TemplateEngine {
  private readonly instances = new Map<string, Liquid>();
  /** Parsed templates by `<vendor>/<model>/<format>/<template>`. */
  private readonly parsed = new Map<string, Template[]>();

  constructor(readonly sources: TemplateSources) {}

  private liquid(vendor: Vendor, model: string, format: OutputFormat): Liquid {
    const key = `${vendor}/${model.toLowerCase()}/${format}`;
    let l = this.instances.get(key);
    if (!l) {
      const set = resolveTemplateSet(this.sources, vendor, model);
      l = new Liquid({
        templates: { ...set },
        extname: TEMPLATE_EXT,
        cache: true,
        strictVariables: true,
        strictFilters: true,
        ownPropertyOnly: true,
        jsTruthy: false,
        outputEscape: format === 'xml' ? escapeXml : escapeKeyValue,
        parseLimit: 1_000_000,
        renderLimit: 5_000,
      });
      l.registerTag('render', MemoRenderTag);
      l.registerTag('for', MemoForTag);
      this.instances.set(key, l);
    }
    return l;
  }

  /** True when the merged set for vendor/model has `template`. */
  has(vendor: Vendor, model: string, template: string): boolean {
    return Object.hasOwn(resolveTemplateSet(this.sources, vendor, model), `${template}${TEMPLATE_EXT}`);
  }

  /**
   * Renders one template. Throws HotdeskError('unsafe-value') from the kv
   * escaper, HotdeskError('template-error') for a missing template or a
   * Liquid parse/render failure (message names the template, never a value).
   */
  render(req: RenderRequest): string {
    const l = this.liquid(req.vendor, req.model, req.format);
    const file = `${req.template}${TEMPLATE_EXT}`;
    const key = `${req.vendor}/${req.model.toLowerCase()}/${req.format}/${req.template}`;
    try {
      let templates = this.parsed.get(key);
      if (templates === undefined) {
        templates = l.parseFileSync(req.template);
        this.parsed.set(key, templates);
      }
      return l.renderSync(templates, req.context) as string;
    } catch (e) {
      const inner = findHotdeskError(e);
      if (inner) throw inner;
      const msg = e instanceof Error ? (e.message.split('\n')[0] ?? 'failed') : 'failed';
      throw new HotdeskError('template-error', `template ${req.vendor}/${file}: ${msg}`, { vendor: req.vendor, model: req.model, template: file });
    }
  }
}

function findHotdeskError(e: unknown): HotdeskError | null {
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur !== null && cur !== undefined; i += 1) {
    if (isHotdeskError(cur)) return cur;
    const o = cur as { originalError?: unknown; cause?: unknown };
    cur = o.originalError ?? o.cause;
  }
  return null;
}
