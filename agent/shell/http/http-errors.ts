/**
 * The one place where error codes become HTTP answers (status + problem body).
 * `Record<ErrorCode, number>` makes the compiler reject a missing code.
 */
import { ERROR_CATALOG, type ErrorCode, type HotdeskError } from '../../core/errors.js';

/** HTTP status for every error code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  'bad-request': 400,
  'directory-invalid': 422,
  'yaml-syntax': 422,
  'too-many-keys': 422,
  'unknown-model': 422,
  'profile-invalid': 500,
  'template-error': 500,
  'unsafe-value': 500,
  'unknown-phone': 404,
  'unknown-file': 404,
  'path-traversal': 400,
  'mac-mismatch': 403,
  'auth-required': 401,
  'auth-failed': 401,
  'rate-limited': 429,
  'forbidden-source': 403,
  'secret-over-tftp': 403,
  'write-refused': 405,
  'too-large': 413,
  'not-found': 404,
  'method-not-allowed': 405,
  'token-required': 401,
  'token-invalid': 401,
  'screen-token-invalid': 403,
  'not-hotdesk-code': 422,
  'unknown-user': 404,
  'wrong-pin': 403,
  locked: 423,
  'not-allowed': 403,
  'already-logged-in': 409,
  'not-logged-in': 409,
  conflict: 409,
  'port-in-use': 500,
  'sip-timeout': 504,
  'sip-rejected': 502,
  'storage-error': 500,
  internal: 500,
  busy: 503,
  'backup-invalid': 422,
  'data-dir-not-empty': 409,
  'sip-unreachable': 502,
  'network-unavailable': 503,
  'session-required': 401,
  'sign-in-failed': 401,
  'csrf-failed': 403,
  'role-forbidden': 403,
  'store-unavailable': 503,
};

/** JSON problem body (RFC 9457 shape with our stable `code`). Never holds a secret. */
export function problemBody(err: HotdeskError): string {
  const status = HTTP_STATUS[err.code];
  // 5xx: do not echo internal messages to the requester.
  const message = status >= 500 && err.code === 'internal' ? ERROR_CATALOG.internal : err.message;
  return JSON.stringify({ type: `urn:hotdesk:error:${err.code}`, title: ERROR_CATALOG[err.code], status, code: err.code, detail: message });
}
