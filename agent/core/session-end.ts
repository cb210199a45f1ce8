/**
 * Sessions that end by themselves (docs/behaviour.md §7): a maximum duration and a
 * daily logout time in the site's IANA time zone. A session is never ended in
 * the middle of a call the agent knows about: the shell passes `inCall`.
 *
 * Time-zone arithmetic uses `Intl.DateTimeFormat` (ECMA-402) to read the
 * wall-clock time of an instant in the zone; a wall-clock time is turned into
 * an instant by iterating on the zone offset, which is exact except inside a
 * DST gap (the missing hour: the instant lands one hour off, still once per
 * day) or overlap (the first or second occurrence is used).
 *
 * Pure module: `now` is epoch ms passed in by the caller.
 */
import { HotdeskError } from './errors.js';
import type { Session, SessionEndPolicy } from './model.js';

/** Why a session ends by itself. */
export type AutoEndReason = 'max-duration' | 'daily-logout';

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new HotdeskError('directory-invalid', 'unknown time zone', { timezone });
    }
    formatters.set(timezone, f);
  }
  return f;
}

/** True when `timezone` is an IANA zone name this runtime knows. */
export function isValidTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** Parses `HH:MM` (00:00..23:59); null when malformed. */
export function parseDailyTime(s: string): { hour: number; minute: number } | null {
  const m = /^([01]?[0-9]|2[0-3]):([0-5][0-9])$/.exec(s.trim());
  if (!m) return null;
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** Wall-clock fields of `instant` in `timezone`. */
export function localParts(instant: number, timezone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(timezone).formatToParts(new Date(instant))) {
    if (p.type in out) out[p.type as keyof typeof out] = Number(p.value);
  }
  if (out.hour === 24) out.hour = 0;
  return out;
}

/** Offset (ms) of `timezone` from UTC at `instant`: local wall clock minus UTC. */
function offsetAt(instant: number, timezone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const p = localParts(whole, timezone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** The instant at which the wall clock in `timezone` shows the given local date and time. */
export function zonedTimeToInstant(year: number, month: number, day: number, hour: number, minute: number, timezone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  let guess = asUtc - offsetAt(asUtc, timezone);
  const second = asUtc - offsetAt(guess, timezone);
  if (second !== guess) guess = second;
  return guess;
}

/** First instant strictly after `after` at which the local time in `timezone` is `hh:mm`. */
function nextDailyInstant(after: number, hour: number, minute: number, timezone: string): number {
  const p = localParts(after, timezone);
  // Local midnight-ish anchor as a UTC calendar date; step whole calendar days.
  const base = Date.UTC(p.year, p.month - 1, p.day);
  for (let d = -1; d <= 3; d++) {
    const day = new Date(base + d * DAY_MS);
    const t = zonedTimeToInstant(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), hour, minute, timezone);
    if (t > after) return t;
  }
  /* c8 ignore next -- unreachable: some day within 3 calendar days has the time */
  return after + DAY_MS;
}

function dailyTime(policy: SessionEndPolicy): { hour: number; minute: number } | null {
  if (policy.dailyLogoutTime === undefined) return null;
  const t = parseDailyTime(policy.dailyLogoutTime);
  if (!t) throw new HotdeskError('directory-invalid', 'daily logout time must be HH:MM', { dailyLogoutTime: policy.dailyLogoutTime });
  return t;
}

/** The instants at which `session` ends by each rule (absent rule: no entry). */
function endInstants(session: Session, policy: SessionEndPolicy, timezone: string): { at: number; reason: AutoEndReason }[] {
  const out: { at: number; reason: AutoEndReason }[] = [];
  const max = policy.maxDurationMinutes;
  if (max !== undefined && Number.isFinite(max) && max > 0) {
    out.push({ at: session.startedAt + max * 60_000, reason: 'max-duration' });
  }
  const daily = dailyTime(policy);
  if (daily) out.push({ at: nextDailyInstant(session.startedAt, daily.hour, daily.minute, timezone), reason: 'daily-logout' });
  out.sort((a, b) => a.at - b.at);
  return out;
}

/**
 * Why `session` should end now, or null. `max-duration`: at least
 * `maxDurationMinutes` since `startedAt`. `daily-logout`: a daily-logout
 * instant (local `HH:MM` in `timezone`) fell after `startedAt` and at or
 * before `now`. When both apply, the one that fell first wins. Returns null
 * while `inCall` is true (docs/behaviour.md §7: never end a session mid-call).
 *
 * Throws `directory-invalid` for an unknown time zone or a malformed
 * `dailyLogoutTime` (the directory loader should have refused them).
 */
export function sessionEndReason(session: Session, policy: SessionEndPolicy, timezone: string, now: number, inCall = false): AutoEndReason | null {
  if (inCall) return null;
  const first = endInstants(session, policy, timezone)[0];
  return first !== undefined && first.at <= now ? first.reason : null;
}

/**
 * Epoch ms at which `session` ends by itself, or null when no rule applies,
 * so the shell can set a timer. A value at or before `now` means "due now"
 * (for example the session outlived its end because a call was in progress:
 * the shell re-checks after the call). `now` is accepted for symmetry with
 * {@link sessionEndReason}; the answer depends only on the session and policy.
 */
export function nextSessionEnd(session: Session, policy: SessionEndPolicy, timezone: string, _now: number): number | null {
  const first = endInstants(session, policy, timezone)[0];
  return first === undefined ? null : first.at;
}
