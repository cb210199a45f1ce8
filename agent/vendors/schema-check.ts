/**
 * A small JSON Schema (draft 2020-12) subset checker, enough for firmware
 * profiles: `type` (string, integer, number, boolean, object, array),
 * `required`, `properties`, `additionalProperties: false`, `enum`, `const`,
 * `minimum`, `maximum`, `minLength`, `pattern`, `items`, `minItems`,
 * `uniqueItems`, `oneOf` of types via `type: [..]`.
 *
 * Pure module: returns error strings naming the JSON path of the field
 * (`expansionModules.max: must be >= 0`); never throws on bad input.
 */

/** The schema keywords this checker understands. */
export interface SchemaNode {
  readonly $schema?: string;
  readonly $id?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: SchemaType | readonly SchemaType[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
  readonly enum?: readonly (string | number | boolean)[];
  readonly const?: string | number | boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly items?: SchemaNode;
  readonly minItems?: number;
  readonly uniqueItems?: boolean;
}

/** JSON types named by `type`. */
export type SchemaType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

function typeOf(v: unknown): SchemaType | 'undefined' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'object') return 'object';
  return 'undefined';
}

function typeMatches(actual: SchemaType | 'undefined', wanted: SchemaType): boolean {
  return actual === wanted || (wanted === 'number' && actual === 'integer');
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

/**
 * Checks `value` against `schema`; returns every error found as
 * `<path>: <problem>` (path `(root)` for the document itself).
 */
export function checkSchema(value: unknown, schema: SchemaNode, path = ''): string[] {
  const errors: string[] = [];
  const here = path === '' ? '(root)' : path;
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const wanted: readonly SchemaType[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!wanted.some((t) => typeMatches(actual, t))) {
      errors.push(`${here}: must be ${wanted.join(' or ')}, found ${actual}`);
      return errors;
    }
  }
  if (schema.const !== undefined && value !== schema.const) errors.push(`${here}: must be ${JSON.stringify(schema.const)}`);
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    errors.push(`${here}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${here}: must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${here}: must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${here}: must have at least ${schema.minLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${here}: must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${here}: must have at least ${schema.minItems} items`);
    if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) errors.push(`${here}: items must be unique`);
    if (schema.items !== undefined) {
      const items = schema.items;
      for (const [i, v] of value.entries()) errors.push(...checkSchema(v, items, join(path, i)));
    }
  }
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    for (const req of schema.required ?? []) {
      if (!Object.hasOwn(obj, req)) errors.push(`${join(path, req)}: is required`);
    }
    const props = schema.properties ?? {};
    for (const [k, v] of Object.entries(obj)) {
      const sub = Object.hasOwn(props, k) ? props[k] : undefined;
      if (sub !== undefined) errors.push(...checkSchema(v, sub, join(path, k)));
      else if (schema.additionalProperties === false) errors.push(`${join(path, k)}: is not an allowed field`);
      else if (typeof schema.additionalProperties === 'object') errors.push(...checkSchema(v, schema.additionalProperties, join(path, k)));
    }
  }
  return errors;
}
