/**
 * DTMF carried in SIP INFO bodies (the "legacy INFO usage" of RFC 6086 §2,
 * without an Info-Package header), as desk phones send it when configured
 * for SIP INFO DTMF:
 * - `application/dtmf-relay`: `Signal=5` and `Duration=160` lines (ms);
 * - `application/dtmf`: the digit alone (`5`).
 * Digits are 0-9, `*`, `#` and A-D; some phones send the RFC 4733 event
 * number instead (`Signal=10` for `*`, `11` for `#`, 12-15 for A-D).
 *
 * Pure module: no I/O.
 */

/** What an INFO body says. */
export type InfoDtmf =
  /** A content type we do not read (answer 415 with Accept). */
  | { readonly kind: 'unsupported' }
  /** A DTMF body type without a usable digit (or an empty keep-alive INFO): answer 200, nothing happens. */
  | { readonly kind: 'none' }
  | { readonly kind: 'dtmf'; readonly digit: string; readonly durationMs?: number };

/** The INFO content types read here (the Accept header of a 415). */
export const INFO_DTMF_TYPES = ['application/dtmf-relay', 'application/dtmf'] as const;

const EVENT_DIGITS = '0123456789*#ABCD';

/** The digit a Signal value names, or null (RFC 4733 §3.2 event codes 0-15 or the character itself). */
export function dtmfDigit(signal: string): string | null {
  const s = signal.trim().toUpperCase();
  if (/^[0-9*#A-D]$/.test(s)) return s;
  if (/^1[0-5]$/.test(s)) return EVENT_DIGITS[Number(s)] ?? null;
  return null;
}

/** Reads an INFO body of media type `type` (lowercased, no parameters; '' when absent). */
export function parseInfoDtmf(type: string, body: string): InfoDtmf {
  if (body.trim() === '') return { kind: 'none' };
  if (type !== 'application/dtmf-relay' && type !== 'application/dtmf') return { kind: 'unsupported' };
  if (!body.includes('=')) {
    const digit = dtmfDigit(body);
    return digit ? { kind: 'dtmf', digit } : { kind: 'none' };
  }
  let digit: string | null = null;
  let durationMs: number | undefined;
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === 'signal') digit = dtmfDigit(value);
    else if (key === 'duration' && /^\d{1,6}$/.test(value)) durationMs = Number(value);
  }
  if (!digit) return { kind: 'none' };
  return durationMs === undefined ? { kind: 'dtmf', digit } : { kind: 'dtmf', digit, durationMs };
}
