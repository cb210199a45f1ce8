/**
 * The directory file as the agent understands it after validation
 * (docs/directory.md describes the YAML form).
 */
import type { ErrorCode } from '../core/errors.js';
import type { Phone, SiteSettings, User } from '../core/model.js';

/**
 * What an export without secrets writes in place of each secret. On import
 * it means "keep the secret already stored" (an error when there is none).
 */
export const SECRET_PLACEHOLDER = '********';

/** A user as listed in the directory: the domain user plus the clear PIN (or the placeholder). */
export interface DirectoryUser extends User {
  /** Absent: the user has no PIN and cannot log in by PIN. */
  readonly pin?: string;
}

/** A validated directory. */
export interface Directory {
  /** File name used in messages. */
  readonly file: string;
  readonly site: SiteSettings;
  readonly users: readonly DirectoryUser[];
  readonly phones: readonly Phone[];
}

/** One problem found in a directory file; never holds a secret value. */
export interface DirectoryErrorEntry {
  readonly file: string;
  /** 1-based line and column of the offending node (or its parent when missing). */
  readonly line: number;
  readonly column: number;
  /** Path in the document, e.g. `users[2].pin`, `phones[0].model`. */
  readonly path: string;
  readonly message: string;
  /** Catalog code of this problem (`directory-invalid`, `unknown-model`, `too-many-keys`, `yaml-syntax`). */
  readonly code: ErrorCode;
}

/** Formats an entry as `file:line:column: path: message` (compiler style). */
export function formatDirectoryError(e: DirectoryErrorEntry): string {
  return `${e.file}:${e.line}:${e.column}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}
