/**
 * Firmware-profile families: a model file may say
 * `"extends": "families/<name>"` (relative to its vendor folder, no `.json`);
 * `firmware-profiles/<vendor>/families/<name>.json` is a base holding any
 * profile field except `model` (all optional) and may itself extend another
 * base. The result is base first, then the model on top:
 *
 * - objects merge key by key (recursively),
 * - arrays and scalars of the model replace the base's,
 * - except `unverified` and `sources`, which are concatenated (base first,
 *   duplicates dropped),
 * - `extends` is resolved away (the merged profile never holds it).
 *
 * Pure module: bases come in already parsed (the loader in
 * firmware-profile.ts reads them). A missing base, an `extends` cycle or a
 * malformed `extends` is HotdeskError('profile-invalid') naming the file.
 */
import { HotdeskError } from '../core/errors.js';

/** A parsed JSON object (profile or base). */
export type JsonObject = Record<string, unknown>;

/** `extends` values: `families/<name>`. */
export const EXTENDS_RE = /^families\/[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Fields whose arrays are concatenated rather than replaced. */
const CONCATENATED = new Set(['unverified', 'sources']);

/** Deepest `extends` chain accepted (a longer one is almost certainly a mistake). */
const MAX_DEPTH = 8;

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mergeInto(base: JsonObject, top: JsonObject, depth: number): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(top)) {
    const b = out[k];
    if (depth === 0 && CONCATENATED.has(k) && Array.isArray(b) && Array.isArray(v)) {
      const seen = new Set<string>();
      out[k] = [...b, ...v].filter((x) => {
        const key = JSON.stringify(x);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    } else if (isObject(b) && isObject(v)) {
      out[k] = mergeInto(b, v, depth + 1);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Deep-merges `top` over `base` with the family rules above (neither input is changed). */
export function mergeProfile(base: JsonObject, top: JsonObject): JsonObject {
  return mergeInto(base, top, 0);
}

function invalid(file: string, message: string, field = 'extends'): HotdeskError {
  return new HotdeskError('profile-invalid', `firmware profile ${file}: ${message}`, { file, field, errors: [`${field}: ${message}`] });
}

/**
 * Resolves the `extends` chain of `profile` (read from `file`, e.g.
 * `yealink/T46U.json`). `bases` maps `families/<name>` of the same vendor to
 * the parsed base; `baseFile` names a base's file for messages. Returns the
 * merged object without `extends`.
 */
export function resolveFamilies(profile: JsonObject, file: string, bases: ReadonlyMap<string, JsonObject>, baseFile: (ref: string) => string): JsonObject {
  const chain: JsonObject[] = [];
  const seen: string[] = [];
  let cur: JsonObject = profile;
  let curFile = file;
  for (;;) {
    const ref = cur['extends'];
    if (ref === undefined) break;
    if (typeof ref !== 'string' || !EXTENDS_RE.test(ref)) throw invalid(curFile, `must be "families/<name>" (found ${JSON.stringify(ref)})`);
    if (seen.includes(ref)) throw invalid(file, `extends cycle: ${[...seen, ref].join(' -> ')}`);
    if (seen.length >= MAX_DEPTH) throw invalid(file, `extends chain deeper than ${MAX_DEPTH}`);
    seen.push(ref);
    const base = bases.get(ref);
    if (base === undefined) throw invalid(curFile, `base ${ref} not found (${baseFile(ref)})`);
    if (Object.hasOwn(base, 'model')) throw invalid(baseFile(ref), 'a family base must not name a model', 'model');
    chain.push(base);
    cur = base;
    curFile = baseFile(ref);
  }
  let merged: JsonObject = {};
  for (const base of chain.reverse()) merged = mergeProfile(merged, base);
  merged = mergeProfile(merged, profile);
  delete merged['extends'];
  return merged;
}
