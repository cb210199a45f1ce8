/**
 * The one check of a requested file name, before anything looks it up:
 * provisioning files over HTTP and TFTP, Poly uploads (HTTP PUT), firmware
 * images (`/firmware/<name>`, `firmware/<name>`).
 *
 * RFC 1350 gives a TFTP file name no structure and an HTTP path is only
 * percent-decoded text (RFC 3986 §2.1); servers traditionally map both onto a
 * directory, which is where traversal attacks come from. This agent serves
 * generated files and one flat firmware directory, and refuses every spelling
 * of "leave the served tree": `..` segments, absolute paths (after one leading
 * `/`, which phones commonly send), backslashes, Windows drive letters, NUL and
 * other control characters, percent-encoded dots, separators, `%` or control
 * characters at any depth of encoding (`..%2f`, `%2e%2e`, `%252e`), and empty
 * or `.` segments. What a caller serves is narrower still: sub-directories
 * and the characters of a name are rules of the caller ({@link FileNameRules}).
 *
 * Pure module: no I/O.
 */
import { HotdeskError, type ErrorCode } from '../core/errors.js';

/** Why a name was refused. */
export type FileNameFault =
  /** Nothing left once the leading `/` is gone. */
  | 'empty'
  /** Longer than `maxLength`. */
  | 'too-long'
  /** Malformed percent-encoding (HTTP). */
  | 'bad-encoding'
  /** Tries to leave the served tree, in any spelling. */
  | 'traversal'
  /** Has a directory part where the caller serves only flat names. */
  | 'nested'
  /** A segment does not look like a name the caller serves. */
  | 'bad-name';

/** What a caller accepts. */
export interface FileNameRules {
  /** Longest input accepted as received, in characters. */
  readonly maxLength: number;
  /**
   * True for an HTTP path: `%XX` is decoded once (malformed: `bad-encoding`),
   * and an encoding left after that is refused as double encoding. False for
   * a TFTP name or an already decoded name: `%XX` stays literal, but one that
   * encodes a dot, separator, `%` or control character is refused.
   */
  readonly percentEncoded: boolean;
  /** Sub-directories (`a/b`) allowed; otherwise a `/` inside the name is `nested`. */
  readonly directories: boolean;
  /** What every segment must match (default: anything the traversal checks let through). */
  readonly segment?: RegExp;
}

/** Outcome of {@link checkFileName}; `code` is the default error code of the fault. */
export type FileNameResult =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly fault: FileNameFault; readonly code: ErrorCode; readonly reason: string };

/** Default error code per fault (HTTP 400 / 404, TFTP illegal operation / access violation / not found). */
export const FILE_NAME_FAULT_CODE: Readonly<Record<FileNameFault, ErrorCode>> = {
  empty: 'bad-request',
  'too-long': 'bad-request',
  'bad-encoding': 'bad-request',
  traversal: 'path-traversal',
  nested: 'unknown-file',
  'bad-name': 'unknown-file',
};

/** A provisioning file at the root (`001565aabb01.cfg`, `snomD785-000413AABB02.htm`, `0004f2abcdef-app.log`). */
export const PROVISIONING_FILE_NAME: Omit<FileNameRules, 'percentEncoded'> = {
  maxLength: 512,
  directories: false,
  segment: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
};

/** A TFTP read request's file name (RFC 1350): any depth, checked again by what serves it. */
export const TFTP_FILE_NAME: FileNameRules = { maxLength: 255, percentEncoded: false, directories: true };

/** A firmware image in the flat firmware directory (vendor names carry `+` and dots: `2.0.0.9+snom.bin`). */
export const FIRMWARE_FILE_NAME: Omit<FileNameRules, 'percentEncoded'> = {
  maxLength: 512,
  directories: false,
  segment: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/,
};

const CONTROL = /[\u0000-\u001f\u007f]/;
const DANGEROUS_DECODED = /[./\\%\u0000-\u001f\u007f]/;

const REASON: Readonly<Record<FileNameFault, string>> = {
  empty: 'empty file name',
  'too-long': 'file name too long',
  'bad-encoding': 'malformed percent-encoding in file name',
  traversal: 'path refused',
  nested: 'only files at the served root are served',
  'bad-name': 'not a file name this agent serves',
};

function refuse(fault: FileNameFault, reason = REASON[fault]): FileNameResult {
  return { ok: false, fault, code: FILE_NAME_FAULT_CODE[fault], reason };
}

/** True when any `%XX` in `s` encodes a dot, a separator, `%` (double encoding) or a control character. */
function hasEncodedDanger(s: string): boolean {
  for (const m of s.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    if (DANGEROUS_DECODED.test(String.fromCharCode(parseInt(m[1] ?? '0', 16)))) return true;
  }
  return false;
}

/**
 * Checks a requested name against `rules` and returns it decoded (when
 * `percentEncoded`) with one leading `/` stripped, or the fault, its default
 * error code and a reason safe to log (it never quotes the name).
 */
export function checkFileName(raw: string, rules: FileNameRules): FileNameResult {
  if (raw.length > rules.maxLength) return refuse('too-long');
  let p = raw;
  if (rules.percentEncoded) {
    try {
      p = decodeURIComponent(raw);
    } catch {
      return refuse('bad-encoding');
    }
  }
  if (p.includes('\0') || CONTROL.test(p)) return refuse('traversal', 'control character or NUL in file name');
  if (p.includes('\\')) return refuse('traversal', 'backslash in file name');
  if (hasEncodedDanger(p)) return refuse('traversal', 'percent-encoded dot, separator or control character in file name');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('/')) return refuse('traversal', 'absolute path');
  if (/^[A-Za-z]:/.test(p)) return refuse('traversal', 'drive-letter path');
  if (p === '') return refuse('empty');
  const segments = p.split('/');
  if (segments.some((s) => s === '..')) return refuse('traversal', 'parent-directory segment');
  if (segments.some((s) => s === '.' || s === '')) return refuse('traversal', 'empty or dot segment');
  if (!rules.directories && segments.length > 1) return refuse('nested');
  if (rules.segment && !segments.every((s) => rules.segment?.test(s))) return refuse('bad-name');
  return { ok: true, name: p };
}

/**
 * {@link checkFileName} for callers that throw: the checked name, or a
 * HotdeskError carrying the fault's code (or the one `codes` gives it) and the
 * fault in `detail`.
 */
export function requireFileName(raw: string, rules: FileNameRules, codes: Partial<Record<FileNameFault, ErrorCode>> = {}): string {
  const r = checkFileName(raw, rules);
  if (r.ok) return r.name;
  throw new HotdeskError(codes[r.fault] ?? r.code, r.reason, { fault: r.fault });
}
