/**
 * What the person at the phone is told (docs/behaviour.md §8: every login and logout
 * is confirmed by voice where the call path plays prompts, on the screen
 * where the XML browser is used).
 *
 * Each prompt has English screen text with placeholders and the base name of
 * an audio file (the voice layer adds directory and extension). Placeholders:
 * `{name}` user's name, `{ext}` short number, `{attempts}` attempts left,
 * `{until}` end of a lock.
 *
 * Pure module.
 */
import type { DeskOutcome, PromptId } from './model.js';

/** Screen text and audio file base name for every prompt. */
export const PROMPTS: Readonly<Record<PromptId, { readonly text: string; readonly audio: string }>> = Object.freeze({
  'ask-extension': { text: 'Enter your short number', audio: 'hotdesk-ask-extension' },
  'ask-pin': { text: 'Enter your PIN', audio: 'hotdesk-ask-pin' },
  'logged-in': { text: 'Logged in as {name} ({ext})', audio: 'hotdesk-logged-in' },
  'logged-out': { text: '{name} ({ext}) logged out', audio: 'hotdesk-logged-out' },
  switched: { text: 'Switched to {name} ({ext})', audio: 'hotdesk-switched' },
  'wrong-pin': { text: 'Wrong PIN. {attempts} attempts left', audio: 'hotdesk-wrong-pin' },
  locked: { text: 'Too many wrong PINs. Locked until {until}', audio: 'hotdesk-locked' },
  'not-allowed': { text: 'Hot-desking is not allowed here', audio: 'hotdesk-not-allowed' },
  'unknown-user': { text: 'Unknown short number', audio: 'hotdesk-unknown-user' },
  'already-logged-in': { text: '{name} ({ext}) is logged in on another phone', audio: 'hotdesk-already-logged-in' },
  'not-hotdesk-code': { text: 'Not a hot-desk code', audio: 'hotdesk-not-hotdesk-code' },
});

/** Options for {@link promptText}. */
export interface PromptTextOptions {
  /** IANA zone for `{until}` (`HH:MM` local); without it `{until}` is `HH:MM UTC`. */
  readonly timezone?: string;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function formatUntil(ms: number | undefined, timezone: string | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'later';
  const d = new Date(ms);
  if (timezone !== undefined) {
    try {
      return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
    } catch {
      // unknown zone: fall through to UTC
    }
  }
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/**
 * The screen text for `outcome`: its prompt's text with placeholders filled
 * (`{name}` falls back to the short number), or `outcome.message` when the
 * outcome has no prompt. Never contains a PIN (outcomes carry none).
 */
export function promptText(outcome: DeskOutcome, options: PromptTextOptions = {}): string {
  if (outcome.prompt === null) return outcome.message;
  const spec = PROMPTS[outcome.prompt];
  if (!spec) return outcome.message;
  const ext = outcome.user ?? '';
  const values: Record<string, string> = {
    name: outcome.userName ?? ext,
    ext,
    attempts: outcome.attemptsLeft === undefined ? 'some' : String(outcome.attemptsLeft),
    until: formatUntil(outcome.lockedUntil, options.timezone),
  };
  let text = spec.text.replace(/\{(name|ext|attempts|until)\}/g, (_m, k: string) => values[k] ?? '');
  // No name known: "101 (101)" reads as "101"; no user at all: drop "()".
  if (outcome.userName === undefined && ext !== '') text = text.split(`${ext} (${ext})`).join(ext);
  return text.replace(/ \(\)/g, '').trim();
}
