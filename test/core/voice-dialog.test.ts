import { describe, expect, it } from 'vitest';
import type { DeskOutcome } from '../../agent/core/model.js';
import { onDecideFailed, onDigit, onOutcome, onPlayed, onVoiceTimer, startVoiceDialog, type VoiceStep } from '../../agent/core/voice-dialog.js';

const o = { prefix: '*35', firstDigitMs: 8_000, interDigitMs: 4_000, maxPinAttempts: 3, maxCallMs: 120_000 };
const out = (code: DeskOutcome['code'], extra: Partial<DeskOutcome> = {}): DeskOutcome => ({
  code,
  prompt: code === 'no-change' ? null : code,
  phone: '001565aabb01',
  message: code,
  ...extra,
});

function kinds(s: VoiceStep): string[] {
  return s.actions.map((a) => (a.kind === 'decide' ? `decide:${a.digits}` : a.kind === 'say' ? `say:${a.prompts.join(',')}` : a.kind));
}

function type(s: VoiceStep, keys: string, at: number): VoiceStep {
  let cur = s;
  for (const k of keys) cur = onDigit(cur.dialog, k, at);
  return cur;
}

describe('voice dialog: the spoken feature code', () => {
  it('decides a complete code at once and says the outcome, then hangs up', () => {
    const s0 = startVoiceDialog('*35*001*1234', false, 0, o);
    expect(kinds(s0)).toEqual(['decide:*35*001*1234']);
    const s1 = onOutcome(s0.dialog, out('logged-in', { user: '001' }), 10);
    expect(s1.actions[0]?.kind).toBe('say');
    const said = s1.actions[0]?.kind === 'say' ? s1.actions[0].prompts : [];
    expect(said[0]).toBe('logged-in');
    // The short number is read back digit by digit.
    expect(said).toEqual(expect.arrayContaining(['digit-0', 'digit-1']));
    expect(s1.wakeAt).toBeNull();
    expect(kinds(onPlayed(s1.dialog, 3_000))).toEqual(['hangup']);
  });

  it('*35 on a free phone asks the short number, then the PIN, then decides the full code', () => {
    const s0 = startVoiceDialog('*35', false, 0, o);
    expect(kinds(s0)).toEqual(['decide:*35']);
    const s1 = onOutcome(s0.dialog, out('ask-extension'), 5);
    expect(kinds(s1)).toEqual(['say:ask-extension']);
    const s2 = onPlayed(s1.dialog, 2_000);
    expect(s2.wakeAt).toBe(10_000);
    const s3 = type(s2, '001#', 3_000);
    expect(kinds(s3)).toEqual(['decide:*35*001']);
    const s4 = onPlayed(onOutcome(s3.dialog, out('ask-pin'), 3_010).dialog, 4_000);
    const s5 = type(s4, '1234#', 5_000);
    expect(kinds(s5)).toEqual(['decide:*35*001*1234']);
  });

  it('an entry without # completes after the inter-digit time', () => {
    const s = onPlayed(onOutcome(startVoiceDialog('*35', false, 0, o).dialog, out('ask-extension'), 0).dialog, 1_000);
    const typed = type(s, '101', 2_000);
    expect(typed.wakeAt).toBe(6_000);
    expect(kinds(onVoiceTimer(typed.dialog, 5_999))).toEqual([]);
    expect(kinds(onVoiceTimer(typed.dialog, 6_000))).toEqual(['decide:*35*101']);
  });

  it('silence repeats the question once, then says goodbye', () => {
    const s = onPlayed(onOutcome(startVoiceDialog('*35', false, 0, o).dialog, out('ask-extension'), 0).dialog, 1_000);
    const again = onVoiceTimer(s.dialog, 9_000);
    expect(kinds(again)).toEqual(['say:try-again,ask-extension']);
    const waiting = onPlayed(again.dialog, 11_000);
    const bye = onVoiceTimer(waiting.dialog, 19_000);
    expect(kinds(bye)).toEqual(['say:no-input']);
    expect(kinds(onPlayed(bye.dialog, 21_000))).toEqual(['hangup']);
  });

  it('a digit during a question stops the prompt and starts the entry (barge-in)', () => {
    const asking = onOutcome(startVoiceDialog('*35*001', false, 0, o).dialog, out('ask-pin'), 0);
    const s = onDigit(asking.dialog, '1', 300);
    expect(kinds(s)).toEqual(['stop-playback']);
    // the stopped playback reports "played": the entry must survive it
    const after = onPlayed(s.dialog, 310);
    expect(kinds(type(after, '234#', 400))).toEqual(['decide:*35*001*1234']);
  });

  it('a wrong PIN asks again while the call has attempts left; each attempt is a decision', () => {
    let s = startVoiceDialog('*35*001*1111', false, 0, o);
    const decided: string[] = [];
    for (let i = 0; i < 2; i++) {
      s = onOutcome(s.dialog, out('wrong-pin', { user: '001', attemptsLeft: 3 - i }), 10);
      expect(kinds(s)[0]).toMatch(/^say:wrong-pin.*try-again,ask-pin$/);
      s = type(onPlayed(s.dialog, 100), i === 0 ? '2222#' : '1234#', 200);
      decided.push(...kinds(s));
    }
    expect(decided).toEqual(['decide:*35*001*2222', 'decide:*35*001*1234']);
    // the third wrong PIN of the call ends it
    const last = onOutcome(s.dialog, out('wrong-pin', { user: '001', attemptsLeft: 1 }), 300);
    expect(kinds(last)[0]).not.toContain('ask-pin');
    expect(kinds(onPlayed(last.dialog, 400))).toEqual(['hangup']);
  });

  it('a locked outcome is said and the call ends; no retry', () => {
    const s = onOutcome(startVoiceDialog('*35*001*1111', false, 0, o).dialog, out('locked', { user: '001', lockedUntil: 60_000 }), 10);
    expect(kinds(s)[0]).toMatch(/^say:locked/);
    expect(kinds(onPlayed(s.dialog, 100))).toEqual(['hangup']);
  });

  it('any other number on a phone without a user hears "no user"; with a user "not a hot-desk code"', () => {
    expect(kinds(startVoiceDialog('0201234567', false, 0, o))).toEqual(['say:no-user']);
    expect(kinds(startVoiceDialog('0201234567', true, 0, o))).toEqual(['say:not-hotdesk-code']);
  });

  it('a failed decision says "unavailable" and hangs up', () => {
    const s = onDecideFailed(startVoiceDialog('*35*001*1234', false, 0, o).dialog, 5);
    expect(kinds(s)).toEqual(['say:unavailable']);
    expect(kinds(onPlayed(s.dialog, 100))).toEqual(['hangup']);
  });

  it('the call ends at its maximum length, and typing never grows the state without bound', () => {
    const s = onPlayed(onOutcome(startVoiceDialog('*35', false, 0, o).dialog, out('ask-extension'), 0).dialog, 1_000);
    const long = type(s, '123456789012345', 2_000);
    expect(kinds(long)).toEqual(['decide:*35*123456789012345']);
    // more digits while the agent decides are dropped
    expect(kinds(type(long, '6789', 2_001))).toEqual([]);
    const waiting = onPlayed(onOutcome(long.dialog, out('ask-pin'), 2_100).dialog, 3_000);
    expect(kinds(onVoiceTimer(waiting.dialog, 120_000))).toEqual(['say:no-input']);
  });

  it('digits while deciding or saying goodbye are dropped', () => {
    const s0 = startVoiceDialog('*35*001*1234', false, 0, o);
    expect(kinds(onDigit(s0.dialog, '5', 1))).toEqual([]);
    const bye = onOutcome(s0.dialog, out('logged-in', { user: '001' }), 2);
    expect(kinds(onDigit(bye.dialog, '5', 3))).toEqual([]);
  });
});
