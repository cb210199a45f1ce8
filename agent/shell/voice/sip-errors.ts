/**
 * The one place where error codes become SIP answers (RFC 3261 §21) on the
 * agent's SIP port: when handling a REGISTER or INVITE of the hot-desk line
 * fails with a HotdeskError, the request gets this status. `Record<ErrorCode,
 * number>` makes the compiler reject a missing code.
 *
 * Hot-desk outcomes (wrong PIN, locked, not allowed...) are not SIP errors:
 * a call is answered and the outcome is spoken (docs/voice.md). Protocol
 * answers that are not about an error code (401 challenges, 481, 491, 488,
 * 302 for emergency numbers) come from the SIP machines themselves.
 */
import type { ErrorCode, HotdeskError } from '../../core/errors.js';

/** SIP status for every error code. */
export const SIP_STATUS: Record<ErrorCode, number> = {
  'bad-request': 400,
  'directory-invalid': 500,
  'yaml-syntax': 500,
  'too-many-keys': 500,
  'unknown-model': 500,
  'profile-invalid': 500,
  'template-error': 500,
  'unsafe-value': 500,
  'unknown-phone': 404,
  'unknown-file': 404,
  'path-traversal': 403,
  'mac-mismatch': 403,
  'auth-required': 401,
  'auth-failed': 403,
  'rate-limited': 503,
  'forbidden-source': 403,
  'secret-over-tftp': 403,
  'write-refused': 405,
  'too-large': 413,
  'not-found': 404,
  'method-not-allowed': 405,
  'token-required': 401,
  'token-invalid': 403,
  'screen-token-invalid': 403,
  'not-hotdesk-code': 404,
  'unknown-user': 404,
  'wrong-pin': 403,
  locked: 403,
  'not-allowed': 403,
  'already-logged-in': 486,
  'not-logged-in': 404,
  conflict: 503,
  'port-in-use': 500,
  'sip-timeout': 408,
  'sip-rejected': 502,
  'storage-error': 500,
  internal: 500,
  busy: 486,
  'backup-invalid': 500,
  'data-dir-not-empty': 500,
  'sip-unreachable': 502,
  'network-unavailable': 503,
  'session-required': 401,
  'sign-in-failed': 403,
  'csrf-failed': 403,
  'role-forbidden': 403,
  'store-unavailable': 503,
};

/** Statuses that ask the caller to come back later (a `Retry-After` header goes with them). */
const RETRY_LATER: ReadonlySet<number> = new Set([486, 503]);

/** The SIP answer for an error: status and extra headers (never the error's own text: it may hold details). */
export function sipErrorFor(e: HotdeskError): { readonly status: number; readonly headers: { name: string; value: string }[] } {
  const status = SIP_STATUS[e.code];
  return { status, headers: RETRY_LATER.has(status) ? [{ name: 'Retry-After', value: '10' }] : [] };
}
