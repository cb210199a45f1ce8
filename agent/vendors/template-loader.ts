/**
 * Thin I/O loader for provisioning templates: reads `<dir>/<vendor>/*.liquid`
 * and `<dir>/<vendor>/<model>/*.liquid` from the shipped
 * `provisioning-templates/` and from the site override directory
 * (`<data>/templates/`), once; the shell keeps the result and rebuilds the
 * engine when templates change. Everything else about templates is pure
 * (template-engine.ts).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VENDORS } from '../core/model.js';
import { TEMPLATES_DIR } from '../paths.js';
import { TEMPLATE_EXT, type TemplateSources, type TemplateTree } from './template-engine.js';

/** Templates larger than this are refused (protects the renderer). */
const MAX_TEMPLATE_BYTES = 512 * 1024;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readLayer(dir: string, prefix: string, out: Record<string, string>): void {
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(TEMPLATE_EXT) || !NAME_RE.test(name)) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (!st.isFile() || st.size > MAX_TEMPLATE_BYTES) continue;
    out[`${prefix}/${name}`] = readFileSync(p, 'utf8');
  }
}

/** Reads one template tree (`<root>/<vendor>[/<model>]/*.liquid`); a missing root gives an empty tree. */
export function readTemplateTree(root: string): TemplateTree {
  const out: Record<string, string> = {};
  if (!isDir(root)) return Object.freeze(out);
  for (const vendor of VENDORS) {
    const vdir = join(root, vendor);
    if (!isDir(vdir)) continue;
    readLayer(vdir, vendor, out);
    for (const sub of readdirSync(vdir).sort()) {
      const mdir = join(vdir, sub);
      if (NAME_RE.test(sub) && isDir(mdir)) readLayer(mdir, `${vendor}/${sub}`, out);
    }
  }
  return Object.freeze(out);
}

/** Options of {@link loadTemplateSources}. */
export interface LoadTemplatesOptions {
  /** Site override root (`<data>/templates`), holding `<vendor>/` and `<vendor>/<model>/`. */
  readonly siteDir?: string;
  /** Shipped templates root; defaults to `provisioning-templates/`. */
  readonly shippedDir?: string;
}

/** Reads shipped and site templates into memory. */
export function loadTemplateSources(opts: LoadTemplatesOptions = {}): TemplateSources {
  return Object.freeze({
    shipped: readTemplateTree(opts.shippedDir ?? TEMPLATES_DIR),
    site: opts.siteDir !== undefined ? readTemplateTree(opts.siteDir) : Object.freeze({}),
  });
}
