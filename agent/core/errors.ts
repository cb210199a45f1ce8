/**
 * One error base class with stable codes for the whole agent.
 *
 * Codes are part of the public contract: they appear in CLI output (`--json`),
 * HTTP problem bodies, TFTP error messages and the audit log. They are never
 * renamed; new codes are appended. Each protocol shell maps every code to its
 * own answer in exactly one place (`Record<ErrorCode, ...>` so the compiler
 * keeps the maps complete), and `docs/errors.md` lists every code (a test
 * keeps that list complete).
 *
 * Pure module: no I/O.
 */

/** Every stable error code with a one-line meaning (used by docs and `--help`). */
export const ERROR_CATALOG = {
  // input / directory
  'bad-request': 'The request is malformed (missing or invalid field, bad syntax).',
  'directory-invalid': 'The directory file failed validation; nothing was applied.',
  'yaml-syntax': 'The directory file is not valid YAML.',
  'too-many-keys': 'A phone carries more keys than its model has.',
  'unknown-model': 'No firmware profile exists for this vendor/model.',
  'profile-invalid': 'A firmware profile file does not match the schema.',
  'template-error': 'A provisioning template failed to parse or render.',
  'unsafe-value': 'A value cannot be written safely into a generated file (CR, LF or NUL in key = value output).',
  // identification / provisioning
  'unknown-phone': 'No phone with this MAC address is known and auto-enrolment is off.',
  'unknown-file': 'The requested file name is not one this agent serves.',
  'path-traversal': 'The requested path tries to leave the served tree.',
  'mac-mismatch': 'The MAC in the path disagrees with the MAC in the User-Agent.',
  'auth-required': 'Credentials are required for this file.',
  'auth-failed': 'The credentials are wrong for this phone.',
  'rate-limited': 'Too many failures from this source; try later.',
  'forbidden-source': 'The source address is outside the allowed networks.',
  'secret-over-tftp': 'This file holds secrets and TFTP secrets are not allowed by the site.',
  'write-refused': 'Uploads/writes are not accepted for this path.',
  'too-large': 'The request or upload exceeds the size limit.',
  'not-found': 'The resource does not exist.',
  'method-not-allowed': 'The HTTP method is not allowed here.',
  'token-required': 'An API token is required.',
  'token-invalid': 'The API token is not valid.',
  'screen-token-invalid': 'The phone-screen token does not belong to this phone.',
  // hot-desk outcomes that are errors at the API level
  'not-hotdesk-code': 'The digits are not a hot-desk feature code.',
  'unknown-user': 'No user has this short number.',
  'wrong-pin': 'The PIN is wrong.',
  locked: 'Too many wrong PINs: the user or phone is locked for a while.',
  'not-allowed': 'Hot-desking is not enabled for this user or phone.',
  'already-logged-in': 'The user is logged in on another phone and the policy refuses a second login.',
  'not-logged-in': 'No user is logged in on this phone.',
  conflict: 'A concurrent change won; retry.',
  // runtime
  'port-in-use': 'A network port the agent needs is taken by another process.',
  'sip-timeout': 'The phone did not answer the SIP request in time.',
  /** Reserved: nothing raises it (a NOTIFY's failure status is returned to its caller, docs/errors.md). */
  'sip-rejected': 'The phone answered the SIP request with a failure status.',
  'storage-error': 'The database failed.',
  internal: 'An unexpected internal error.',
  busy: 'Too many requests are in progress (from this address or overall); retry shortly.',
  // operations
  'backup-invalid': 'The file is not a hotdesk backup, or the data key does not open it.',
  'data-dir-not-empty': 'The target data directory already holds data; nothing was changed.',
  // runtime (network)
  'sip-unreachable': 'The SIP request could not be sent to the phone (no route, address refused by the host).',
  'network-unavailable': 'A network facility the agent needs (a multicast group membership) is not available on this host.',
  // web console
  'session-required': 'Sign in to the console first (no session, or it expired or was ended).',
  'sign-in-failed': 'The console account name or password is wrong.',
  'csrf-failed': 'The form was not sent by this console (missing or wrong CSRF token); reload the page and try again.',
  'role-forbidden': 'Your console role does not allow this action.',
  // shared store
  'store-unavailable': 'The database does not answer right now (restarting, unreachable); nothing was changed, retry shortly.',
} as const;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** All error codes, in catalog order. */
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/**
 * The one error class the agent throws on purpose. `code` is stable, `message`
 * is for people and must never contain a secret (PIN, password, credential).
 */
export class HotdeskError extends Error {
  override readonly name = 'HotdeskError';
  readonly code: ErrorCode;
  /** Structured, secret-free detail (e.g. `{ file: 'demo.yaml', line: 12 }`). */
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, detail: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message ?? ERROR_CATALOG[code], options);
    this.code = code;
    this.detail = Object.freeze({ ...detail });
  }

  /** JSON form used by CLI `--json` and HTTP problem bodies. */
  toJSON(): { code: ErrorCode; message: string; detail: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, detail: this.detail };
  }
}

/** True when `e` is a HotdeskError (optionally of the given code). */
export function isHotdeskError(e: unknown, code?: ErrorCode): e is HotdeskError {
  return e instanceof HotdeskError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into a HotdeskError (unknown errors become `internal`). */
export function toHotdeskError(e: unknown): HotdeskError {
  if (e instanceof HotdeskError) return e;
  return new HotdeskError('internal', 'internal error', {}, { cause: e });
}
