import { describe, expect, it } from 'vitest';
import { isValidTimeZone, nextSessionEnd, parseDailyTime, sessionEndReason, zonedTimeToInstant } from '../../agent/core/session-end.js';
import { HotdeskError } from '../../agent/core/errors.js';
import type { Session } from '../../agent/core/model.js';

const MIN = 60_000;
const at = (iso: string): number => Date.parse(iso);
const session = (startedAt: number): Session => ({ phoneMac: '001565aabb01', userExt: '101', startedAt });

describe('maximum duration', () => {
  const s = session(at('2025-01-06T08:00:00Z'));
  const policy = { maxDurationMinutes: 480 };

  it('ends exactly at startedAt + max minutes', () => {
    expect(sessionEndReason(s, policy, 'UTC', s.startedAt + 480 * MIN - 1)).toBeNull();
    expect(sessionEndReason(s, policy, 'UTC', s.startedAt + 480 * MIN)).toBe('max-duration');
    expect(nextSessionEnd(s, policy, 'UTC', s.startedAt)).toBe(s.startedAt + 480 * MIN);
  });

  it('is not ended while the phone is in a call', () => {
    expect(sessionEndReason(s, policy, 'UTC', s.startedAt + 600 * MIN, true)).toBeNull();
    expect(sessionEndReason(s, policy, 'UTC', s.startedAt + 600 * MIN, false)).toBe('max-duration');
  });

  it('no rule: never ends', () => {
    expect(sessionEndReason(s, {}, 'Europe/Berlin', s.startedAt + 1e10)).toBeNull();
    expect(nextSessionEnd(s, {}, 'Europe/Berlin', s.startedAt)).toBeNull();
    expect(sessionEndReason(s, { maxDurationMinutes: 0 }, 'UTC', s.startedAt + 1e10)).toBeNull();
  });
});

describe('daily logout in the site time zone', () => {
  const policy = { dailyLogoutTime: '18:00' };

  it('Europe/Berlin in winter (UTC+1): 18:00 local is 17:00Z', () => {
    const s = session(at('2025-01-06T08:00:00Z'));
    expect(nextSessionEnd(s, policy, 'Europe/Berlin', s.startedAt)).toBe(at('2025-01-06T17:00:00Z'));
    expect(sessionEndReason(s, policy, 'Europe/Berlin', at('2025-01-06T16:59:59Z'))).toBeNull();
    expect(sessionEndReason(s, policy, 'Europe/Berlin', at('2025-01-06T17:00:00Z'))).toBe('daily-logout');
  });

  it('Europe/Berlin in summer (UTC+2) and America/New_York (UTC-5 / UTC-4)', () => {
    const s = session(at('2025-07-01T08:00:00Z'));
    expect(nextSessionEnd(s, policy, 'Europe/Berlin', s.startedAt)).toBe(at('2025-07-01T16:00:00Z'));
    expect(nextSessionEnd(s, policy, 'America/New_York', s.startedAt)).toBe(at('2025-07-01T22:00:00Z'));
    const w = session(at('2025-01-06T14:00:00Z'));
    expect(nextSessionEnd(w, policy, 'America/New_York', w.startedAt)).toBe(at('2025-01-06T23:00:00Z'));
  });

  it('the same instant ends a session in Berlin but not in New York', () => {
    const s = session(at('2025-01-06T16:00:00Z')); // 17:00 Berlin, 11:00 New York
    const now = at('2025-01-06T17:30:00Z'); // 18:30 Berlin, 12:30 New York
    expect(sessionEndReason(s, policy, 'Europe/Berlin', now)).toBe('daily-logout');
    expect(sessionEndReason(s, policy, 'America/New_York', now)).toBeNull();
    expect(sessionEndReason(s, policy, 'Europe/Berlin', now, true)).toBeNull();
  });

  it("a session started after today's logout time runs until tomorrow's", () => {
    const s = session(at('2025-01-06T17:01:00Z')); // 18:01 Berlin
    expect(sessionEndReason(s, policy, 'Europe/Berlin', at('2025-01-06T22:00:00Z'))).toBeNull();
    expect(nextSessionEnd(s, policy, 'Europe/Berlin', s.startedAt)).toBe(at('2025-01-07T17:00:00Z'));
    // Started exactly at the logout instant: that instant is not "after startedAt".
    const exact = session(at('2025-01-06T17:00:00Z'));
    expect(sessionEndReason(exact, policy, 'Europe/Berlin', exact.startedAt)).toBeNull();
    expect(nextSessionEnd(exact, policy, 'Europe/Berlin', exact.startedAt)).toBe(at('2025-01-07T17:00:00Z'));
  });

  it('across the spring DST change (Berlin 2025-03-30, New York 2025-03-09)', () => {
    const b = session(at('2025-03-29T18:00:00Z')); // 19:00 CET
    expect(nextSessionEnd(b, policy, 'Europe/Berlin', b.startedAt)).toBe(at('2025-03-30T16:00:00Z')); // 18:00 CEST
    const n = session(at('2025-03-09T01:00:00Z')); // 20:00 EST on the 8th
    expect(nextSessionEnd(n, policy, 'America/New_York', n.startedAt)).toBe(at('2025-03-09T22:00:00Z')); // 18:00 EDT
  });

  it('a wall-clock time inside the DST gap still ends the session once that night', () => {
    const s = session(at('2025-03-29T20:00:00Z'));
    const end = nextSessionEnd(s, { dailyLogoutTime: '02:30' }, 'Europe/Berlin', s.startedAt);
    expect(end).not.toBeNull();
    expect(end!).toBeGreaterThan(at('2025-03-30T00:00:00Z'));
    expect(end!).toBeLessThanOrEqual(at('2025-03-30T01:30:00Z'));
  });

  it('midnight logout (00:00) in New York', () => {
    const s = session(at('2025-01-06T20:00:00Z')); // 15:00 EST
    expect(nextSessionEnd(s, { dailyLogoutTime: '00:00' }, 'America/New_York', s.startedAt)).toBe(at('2025-01-07T05:00:00Z'));
  });
});

describe('both rules', () => {
  it('the rule that falls first wins', () => {
    const s = session(at('2025-01-06T16:30:00Z')); // 17:30 Berlin
    const both = { maxDurationMinutes: 60, dailyLogoutTime: '18:00' };
    expect(nextSessionEnd(s, both, 'Europe/Berlin', s.startedAt)).toBe(at('2025-01-06T17:00:00Z'));
    expect(sessionEndReason(s, both, 'Europe/Berlin', at('2025-01-06T17:40:00Z'))).toBe('daily-logout');
    const early = session(at('2025-01-06T08:00:00Z'));
    expect(sessionEndReason(early, both, 'Europe/Berlin', at('2025-01-06T17:40:00Z'))).toBe('max-duration');
  });
});

describe('helpers and invalid settings', () => {
  it('parseDailyTime', () => {
    expect(parseDailyTime('18:00')).toEqual({ hour: 18, minute: 0 });
    expect(parseDailyTime('7:05')).toEqual({ hour: 7, minute: 5 });
    for (const bad of ['24:00', '18:60', '1800', '', 'ab:cd']) expect(parseDailyTime(bad)).toBeNull();
  });

  it('zonedTimeToInstant and isValidTimeZone', () => {
    expect(zonedTimeToInstant(2025, 7, 1, 18, 0, 'Europe/Berlin')).toBe(at('2025-07-01T16:00:00Z'));
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });

  it('unknown zone or malformed time throws directory-invalid', () => {
    const s = session(0);
    expect(() => sessionEndReason(s, { dailyLogoutTime: '18:00' }, 'Mars/Olympus', 1)).toThrow(HotdeskError);
    try {
      sessionEndReason(s, { dailyLogoutTime: '25:00' }, 'UTC', 1);
      expect.unreachable();
    } catch (e) {
      expect((e as HotdeskError).code).toBe('directory-invalid');
    }
  });
});
