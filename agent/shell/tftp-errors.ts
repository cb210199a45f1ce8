/**
 * The one place where error codes become TFTP ERROR packets (RFC 1350 §5
 * error codes). `Record<ErrorCode, number>` makes the compiler reject a
 * missing code.
 *
 * The text sent is the catalog's fixed one-liner prefixed with the stable
 * code, never the error's own message: TFTP peers are unauthenticated, so no
 * detail (and certainly no secret) travels back to them.
 */
import { ERROR_CATALOG, type ErrorCode, type HotdeskError } from '../core/errors.js';
import { TFTP_ERROR_CODE } from '../protocols/tftp-packet.js';

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
};

/** The TFTP error code and secret-free text for an error code. */
export function tftpErrorFor(code: ErrorCode): { readonly code: number; readonly message: string } {
  return { code: TFTP_ERROR_MAP[code], message: `${code}: ${ERROR_CATALOG[code]}` };
}

/** Same as {@link tftpErrorFor}, from a HotdeskError. */
export function tftpErrorForError(err: HotdeskError): { readonly code: number; readonly message: string } {
  return tftpErrorFor(err.code);
}
