/**
 * The one place where error codes become SIP final responses (RFC 3261 §21),
 * used by the agent's SIP listeners (PnP responder) and as the table the PBX
 * integration documents (docs/pbx.md) for rejecting a feature-code call.
 */
import type { ErrorCode } from '../core/errors.js';

/** SIP status code and reason phrase for every error code. */
export const SIP_STATUS: Record<ErrorCode, readonly [number, string]> = {
  'bad-request': [400, 'Bad Request'],
  'directory-invalid': [500, 'Server Internal Error'],
  'yaml-syntax': [500, 'Server Internal Error'],
  'too-many-keys': [500, 'Server Internal Error'],
  'unknown-model': [488, 'Not Acceptable Here'],
  'profile-invalid': [500, 'Server Internal Error'],
  'template-error': [500, 'Server Internal Error'],
  'unsafe-value': [500, 'Server Internal Error'],
  'unknown-phone': [404, 'Not Found'],
  'unknown-file': [404, 'Not Found'],
  'path-traversal': [403, 'Forbidden'],
  'mac-mismatch': [403, 'Forbidden'],
  'auth-required': [401, 'Unauthorized'],
  'auth-failed': [403, 'Forbidden'],
  'rate-limited': [503, 'Service Unavailable'],
  'forbidden-source': [403, 'Forbidden'],
  'secret-over-tftp': [403, 'Forbidden'],
  'write-refused': [405, 'Method Not Allowed'],
  'too-large': [513, 'Message Too Large'],
  'not-found': [404, 'Not Found'],
  'method-not-allowed': [405, 'Method Not Allowed'],
  'token-required': [401, 'Unauthorized'],
  'token-invalid': [403, 'Forbidden'],
  'screen-token-invalid': [403, 'Forbidden'],
  'not-hotdesk-code': [484, 'Address Incomplete'],
  'unknown-user': [404, 'Not Found'],
  'wrong-pin': [403, 'Forbidden'],
  locked: [486, 'Busy Here'],
  'not-allowed': [403, 'Forbidden'],
  'already-logged-in': [486, 'Busy Here'],
  'not-logged-in': [481, 'Call/Transaction Does Not Exist'],
  conflict: [491, 'Request Pending'],
  'port-in-use': [500, 'Server Internal Error'],
  'sip-timeout': [408, 'Request Timeout'],
  'sip-rejected': [502, 'Bad Gateway'],
  'storage-error': [500, 'Server Internal Error'],
  internal: [500, 'Server Internal Error'],
};
