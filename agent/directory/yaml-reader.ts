/**
 * Typed reading of a parsed YAML document with source positions (yaml 2.x
 * `parseDocument` + `LineCounter`). Every problem is collected with the
 * file, line and column of the node it concerns; reading goes on, so IT sees
 * all problems of a file at once.
 *
 * Rules that protect IT from YAML surprises: a string field given as a
 * number or boolean is refused with "quote it" (unquoted `001` is the number
 * 1), `*` at the start of a value is an alias and must be quoted, and CR/LF/NUL
 * are refused in every string (they would inject lines into key = value
 * phone files). Messages about secret fields never echo the value.
 */
import type { LineCounter, Node as YamlNode, Pair } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ErrorCode } from '../core/errors.js';
import type { DirectoryErrorEntry } from './directory-types.js';

/** A value node (or undefined when absent) and its path. */
export interface At {
  readonly node: YamlNode | undefined;
  readonly path: string;
  /** Node to point at when `node` is absent (the parent map). */
  readonly parent: YamlNode | undefined;
}

/** Options for {@link YamlReader.str}. */
export interface StrOptions {
  readonly required?: boolean;
  /** Never echo the value in messages. */
  readonly secret?: boolean;
  /** Refuse the empty string. */
  readonly nonEmpty?: boolean;
}

/** Collects errors while reading typed values out of YAML nodes. */
export class YamlReader {
  readonly errors: DirectoryErrorEntry[] = [];

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly lines: LineCounter,
  ) {}

  /** Records an error at `node` (or `fallback`, or the start of the file). */
  error(node: YamlNode | undefined, path: string, message: string, code: ErrorCode = 'directory-invalid', fallback?: YamlNode): void {
    const where = node?.range ?? fallback?.range;
    const pos = where ? this.lines.linePos(where[0]) : { line: 1, col: 1 };
    this.errors.push({ file: this.file, line: pos.line, column: pos.col, path, message, code });
  }

  /** Error at the node of `at`, or at its parent when absent. */
  fail(at: At, message: string, code: ErrorCode = 'directory-invalid'): void {
    this.error(at.node, at.path, message, code, at.parent);
  }

  /** True when the node is absent or an empty/null scalar. */
  static absent(node: YamlNode | undefined): boolean {
    return node === undefined || (isScalar(node) && node.value === null);
  }

  /**
   * Reads a mapping: checks the node is a map, flags unknown keys (typos),
   * and returns an accessor for the value of each known key.
   */
  map(at: At, allowed: readonly string[], opts: { required?: boolean } = {}): ((key: string) => At) | null {
    if (YamlReader.absent(at.node)) {
      if (opts.required) this.fail(at, 'is required');
      return null;
    }
    const node = at.node;
    if (!isMap(node)) {
      this.fail(at, 'must be a mapping (key: value lines)');
      return null;
    }
    const values = new Map<string, YamlNode | undefined>();
    for (const pair of (node as YAMLMap).items as Pair<unknown, unknown>[]) {
      const keyNode = pair.key as YamlNode | undefined;
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value) : undefined;
      const path = at.path ? `${at.path}.${key ?? '?'}` : (key ?? '?');
      if (key === undefined || !allowed.includes(key)) {
        this.error(keyNode, path, `unknown field${key !== undefined ? ` "${key}"` : ''}; expected one of: ${allowed.join(', ')}`, 'directory-invalid', node);
        continue;
      }
      values.set(key, (pair.value ?? undefined) as YamlNode | undefined);
    }
    return (key: string) => ({ node: values.get(key), path: at.path ? `${at.path}.${key}` : key, parent: node });
  }

  /** Reads a sequence: the item nodes with their paths (empty when absent). */
  seq(at: At, opts: { required?: boolean } = {}): At[] {
    if (YamlReader.absent(at.node)) {
      if (opts.required) this.fail(at, 'is required');
      return [];
    }
    if (!isSeq(at.node)) {
      this.fail(at, 'must be a list (lines starting with "- ")');
      return [];
    }
    const seq = at.node as YAMLSeq;
    return seq.items.map((item, i) => ({ node: (item ?? undefined) as YamlNode | undefined, path: `${at.path}[${i}]`, parent: seq }));
  }

  /** Source text of a node (what IT typed). */
  source(node: YamlNode): string {
    return node.range ? this.text.slice(node.range[0], node.range[1]).trim() : '';
  }

  /** Reads a string. Numbers/booleans are refused with a "quote it" hint. */
  str(at: At, opts: StrOptions = {}): string | undefined {
    const node = at.node;
    if (YamlReader.absent(node)) {
      if (opts.required) this.fail(at, 'is required');
      return undefined;
    }
    if (isAlias(node)) {
      this.fail(at, 'starts with * which YAML reads as an alias: put the value in double quotes');
      return undefined;
    }
    if (!isScalar(node)) {
      this.fail(at, 'must be a single value');
      return undefined;
    }
    const v = node.value;
    if (typeof v !== 'string') {
      const hint = opts.secret ? 'put it in double quotes' : `quote it: "${this.source(node)}"`;
      this.fail(at, `must be text, not a ${typeof v === 'number' ? 'number' : typeof v} (YAML drops leading zeros from unquoted digits); ${hint}`);
      return undefined;
    }
    if (/[\r\n\0]/.test(v)) {
      this.fail(at, 'must not contain line breaks or NUL characters');
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      this.fail(at, 'must not be empty');
      return undefined;
    }
    return v;
  }

  /** Reads a boolean (`true`/`false`). */
  bool(at: At, fallback: boolean): boolean {
    const node = at.node;
    if (YamlReader.absent(node)) return fallback;
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.fail(at, 'must be true or false');
      return fallback;
    }
    return node.value;
  }

  /** Reads an integer in `[min, max]`. */
  int(at: At, range: { min: number; max: number }, opts: { required?: boolean } = {}): number | undefined {
    const node = at.node;
    if (YamlReader.absent(node)) {
      if (opts.required) this.fail(at, 'is required');
      return undefined;
    }
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) {
      this.fail(at, 'must be a whole number');
      return undefined;
    }
    if (node.value < range.min || node.value > range.max) {
      this.fail(at, `must be between ${range.min} and ${range.max}`);
      return undefined;
    }
    return node.value;
  }

  /** Reads one of `choices`. */
  choice<T extends string>(at: At, choices: readonly T[], fallback: T): T {
    const v = this.str(at);
    if (v === undefined) return fallback;
    if (!(choices as readonly string[]).includes(v)) {
      this.fail(at, `must be one of: ${choices.join(', ')}`);
      return fallback;
    }
    return v as T;
  }
}
