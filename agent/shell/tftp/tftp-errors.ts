/**
 * The one place where error codes become TFTP ERROR packets (RFC 1350 §5
 * error codes). `Record<ErrorCode, number>` makes the compiler reject a
 * missing code.
 *
 * The text sent is the catalog's fixed one-liner prefixed with the stable
 * code, never the error's own message: TFTP peers are unauthenticated, so no
 * detail (and certainly no secret) travels back to them. The one exception
 * is `busy`, which says which limit was hit with one of two fixed texts
 * ({@link tftpBusyError}): still nothing the peer sent, nothing secret.
 */
import { ERROR_CATALOG, type ErrorCode, type HotdeskError } from '../../core/errors.js';
import { TFTP_ERROR_CODE } from '../../protocols/tftp-packet.js';

const NOT_FOUND = TFTP_ERROR_CODE.fileNotFound;
const ACCESS = TFTP_ERROR_CODE.accessViolation;
const ILLEGAL = TFTP_ERROR_CODE.illegalOperation;
const OTHER = TFTP_ERROR_CODE.notDefined;

/** TFTP error code for every error code. */
export const TFTP_ERROR_MAP: Record<ErrorCode, number> = {
  'bad-request': ILLEGAL,
  'directory-invalid': OTHER,
  'yaml-syntax': OTHER,
  'too-many-keys': OTHER,
  'unknown-model': OTHER,
  'profile-invalid': OTHER,
  'template-error': OTHER,
  'unsafe-value': OTHER,
  'unknown-phone': NOT_FOUND,
  'unknown-file': NOT_FOUND,
  'path-traversal': ACCESS,
  'mac-mismatch': ACCESS,
  'auth-required': ACCESS,
  'auth-failed': ACCESS,
  'rate-limited': OTHER,
  'forbidden-source': ACCESS,
  'secret-over-tftp': ACCESS,
  'write-refused': ACCESS,
  'too-large': OTHER,
  'not-found': NOT_FOUND,
  'method-not-allowed': ILLEGAL,
  'token-required': ACCESS,
  'token-invalid': ACCESS,
  'screen-token-invalid': ACCESS,
  'not-hotdesk-code': OTHER,
  'unknown-user': NOT_FOUND,
  'wrong-pin': ACCESS,
  locked: ACCESS,
  'not-allowed': ACCESS,
  'already-logged-in': OTHER,
  'not-logged-in': OTHER,
  conflict: OTHER,
  'port-in-use': OTHER,
  'sip-timeout': OTHER,
  'sip-rejected': OTHER,
  'storage-error': OTHER,
  internal: OTHER,
  busy: OTHER,
  'backup-invalid': OTHER,
  'data-dir-not-empty': OTHER,
  'sip-unreachable': OTHER,
  'network-unavailable': OTHER,
  'session-required': ACCESS,
  'sign-in-failed': ACCESS,
  'csrf-failed': ACCESS,
  'role-forbidden': ACCESS,
  'store-unavailable': OTHER,
};

/** The TFTP error code and secret-free text for an error code. */
export function tftpErrorFor(code: ErrorCode): { readonly code: number; readonly message: string } {
  return { code: TFTP_ERROR_MAP[code], message: `${code}: ${ERROR_CATALOG[code]}` };
}

/** Same as {@link tftpErrorFor}, from a HotdeskError. */
export function tftpErrorForError(err: HotdeskError): { readonly code: number; readonly message: string } {
  return tftpErrorFor(err.code);
}

/** Which transfer limit refused (or evicted) a read request. */
export type TftpBusyReason = 'source' | 'server';

/** Fixed texts of the `busy` refusal, by limit. */
export const TFTP_BUSY_TEXT: Readonly<Record<TftpBusyReason, string>> = {
  source: 'busy: too many transfers in progress from this address',
  server: 'busy: server busy, retry',
};

/**
 * ERROR 0 for a request refused for lack of a transfer slot: the per-address
 * cap (`source`) or a full table with nothing fair to evict (`server`).
 * RFC 1350 §5 has no "busy" code, so it is 0 (not defined) with a clear text.
 */
export function tftpBusyError(reason: TftpBusyReason): { readonly code: number; readonly message: string } {
  return { code: TFTP_ERROR_MAP.busy, message: TFTP_BUSY_TEXT[reason] };
}
