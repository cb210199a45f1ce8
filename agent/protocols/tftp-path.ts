/**
 * First-line check of a TFTP file name, before anything looks it up.
 *
 * RFC 1350 gives the file name no structure; servers traditionally map it
 * onto a directory, which is where traversal attacks come from. This agent
 * serves generated files only, but still refuses every spelling of "leave the
 * served tree" here, so the resolver never even sees such a name:
 * `..` segments, absolute paths (after one leading `/` is stripped, which
 * phones commonly send), backslashes, Windows drive letters, NUL and other
 * control characters, and percent-encoded dots/separators at any depth of
 * encoding (`..%2f`, `%2e%2e`, `%252e`).
 *
 * Pure module: no I/O.
 */
import type { ErrorCode } from '../core/errors.js';

/** Longest file name accepted (bytes; RFC 1350 requests fit in one 512-byte datagram in practice). */
export const TFTP_MAX_PATH = 255;

/** Outcome of {@link sanitizeTftpPath}. */
export type TftpPathResult =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly code: Extract<ErrorCode, 'path-traversal' | 'bad-request'>; readonly reason: string };

const CONTROL = /[\u0000-\u001f\u007f]/;
const DANGEROUS_DECODED = /[./\\%\u0000]/;

function refuse(reason: string): TftpPathResult {
  return { ok: false, code: 'path-traversal', reason };
}

/** True when any `%XX` in `s` encodes a dot, a separator, NUL or another `%` (double encoding). */
function hasEncodedDanger(s: string): boolean {
  const re = /%([0-9A-Fa-f]{2})/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const ch = String.fromCharCode(parseInt(m[1] ?? '0', 16));
    if (DANGEROUS_DECODED.test(ch) || CONTROL.test(ch)) return true;
  }
  return false;
}

/**
 * Checks a requested TFTP file name and returns it with one leading `/`
 * stripped. Refusals carry `path-traversal` (or `bad-request` for an
 * over-long name); the server answers them with ERROR 2 / 4 without calling
 * the resolver.
 */
export function sanitizeTftpPath(filename: string): TftpPathResult {
  if (filename.length === 0) return { ok: false, code: 'bad-request', reason: 'empty file name' };
  if (filename.length > TFTP_MAX_PATH) return { ok: false, code: 'bad-request', reason: 'file name too long' };
  if (CONTROL.test(filename)) return refuse('control character or NUL in file name');
  if (filename.includes('\\')) return refuse('backslash in file name');
  if (hasEncodedDanger(filename)) return refuse('percent-encoded dot, separator or NUL in file name');
  let p = filename.startsWith('/') ? filename.slice(1) : filename;
  if (p.startsWith('/')) return refuse('absolute path');
  if (/^[A-Za-z]:/.test(p)) return refuse('drive-letter path');
  if (p === '') return { ok: false, code: 'bad-request', reason: 'empty file name' };
  const segments = p.split('/');
  if (segments.some((s) => s === '..')) return refuse('parent-directory segment');
  if (segments.some((s) => s === '.' || s === '')) return refuse('empty or dot segment');
  p = segments.join('/');
  return { ok: true, path: p };
}
