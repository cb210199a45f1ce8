import { describe, expect, it } from 'vitest';
import { PROMPTS, promptText } from '../../agent/core/prompts.js';
import type { DeskOutcome, PromptId } from '../../agent/core/model.js';

const ALL: PromptId[] = [
  'ask-extension',
  'ask-pin',
  'logged-in',
  'logged-out',
  'switched',
  'wrong-pin',
  'locked',
  'not-allowed',
  'unknown-user',
  'already-logged-in',
  'not-hotdesk-code',
];
const base = (over: Partial<DeskOutcome>): DeskOutcome => ({ code: 'logged-in', prompt: 'logged-in', phone: '001565aaaa01', message: 'm', ...over });

describe('prompts', () => {
  it('every prompt id has screen text and a distinct audio file name', () => {
    expect(Object.keys(PROMPTS).sort()).toEqual([...ALL].sort());
    const audio = ALL.map((id) => PROMPTS[id].audio);
    expect(new Set(audio).size).toBe(ALL.length);
    for (const a of audio) expect(a).toMatch(/^hotdesk-[a-z-]+$/);
  });

  it('fills name, ext, attempts and until', () => {
    expect(promptText(base({ user: '101', userName: 'Alice' }))).toBe('Logged in as Alice (101)');
    expect(promptText(base({ code: 'logged-out', prompt: 'logged-out', user: '101' }))).toBe('101 logged out');
    expect(promptText(base({ code: 'wrong-pin', prompt: 'wrong-pin', attemptsLeft: 2 }))).toBe('Wrong PIN. 2 attempts left');
    const until = Date.UTC(2025, 0, 6, 13, 5);
    const locked = base({ code: 'locked', prompt: 'locked', lockedUntil: until });
    expect(promptText(locked)).toBe('Too many wrong PINs. Locked until 13:05 UTC');
    expect(promptText(locked, { timezone: 'Europe/Berlin' })).toBe('Too many wrong PINs. Locked until 14:05');
    expect(promptText(locked, { timezone: 'America/New_York' })).toBe('Too many wrong PINs. Locked until 08:05');
  });

  it('an outcome without prompt shows its message', () => {
    expect(promptText(base({ code: 'no-change', prompt: null, message: 'nobody is logged in' }))).toBe('nobody is logged in');
  });

  it('leaves no placeholder unfilled for any prompt', () => {
    for (const prompt of ALL) {
      expect(promptText(base({ prompt, user: '7', userName: 'X', attemptsLeft: 1, lockedUntil: 0 }))).not.toMatch(/[{}]/);
      expect(promptText(base({ prompt }))).not.toMatch(/[{}]|\(\)/);
    }
  });
});
