/**
 * What the agent says on the hot-desk line: the voice prompt ids, their
 * English wording, and the sequence of prompts that tells the person at the
 * phone what a hot-desk decision did (docs/voice.md).
 *
 * The ids are the screen prompt ids of `PromptId` (core/prompts.ts), each a
 * complete sentence on its own so a PBX can play one file per outcome, plus
 * voice-only parts the agent puts together: `as` and the digits name the user
 * ("You are logged in" + "as" + "1 0 1"), `is-logged-out` follows the digits
 * ("1 0 1" + "is logged out"). Every language ships the same parts; the word
 * order of each sentence works in English, Dutch and German.
 *
 * Privacy: the PIN is never spoken, and a PIN attempt for a short number
 * nobody has sounds exactly like a wrong PIN (docs/behaviour.md §6). The core
 * already answers such attempts with `wrong-pin`; an `unknown-user` outcome
 * (only an administrator naming a missing user gets one) is spoken as a wrong
 * PIN too, so no path through the voice line can tell numbers apart.
 *
 * Pure module.
 */
import { type DeskOutcome, type PromptId, VOICE_LANGUAGES, type VoiceLanguage } from './model.js';
import { PROMPTS } from './prompts.js';

/** Digits read one by one, `digit-0` … `digit-9`. */
const DIGIT_IDS = ['digit-0', 'digit-1', 'digit-2', 'digit-3', 'digit-4', 'digit-5', 'digit-6', 'digit-7', 'digit-8', 'digit-9'] as const;

/** Every voice prompt id: screen prompts, voice-only sentences and parts, digits. */
const VOICE_ONLY_IDS = ['no-user', 'try-again', 'no-input', 'unavailable', 'goodbye', 'as', 'is-logged-out', ...DIGIT_IDS] as const;

/** One voice prompt (one sound file per language): a screen prompt (core/prompts.ts) or a voice-only part. */
export type VoicePromptId = PromptId | (typeof VOICE_ONLY_IDS)[number];

/** Every voice prompt id: the screen prompts in the model's order, voice-only sentences and parts, digits. */
export const VOICE_PROMPT_IDS: readonly VoicePromptId[] = Object.freeze([...(Object.keys(PROMPTS) as PromptId[]), ...VOICE_ONLY_IDS]);

/** The languages the agent ships prompts for (English is the fallback for every id): the model's list. */
export { VOICE_LANGUAGES, type VoiceLanguage } from './model.js';

/**
 * English wording of every prompt (what the shipped English audio says; the
 * Dutch and German wording lives with the audio in `prompts/texts.json`).
 * Parts that continue into digits or another part carry no full stop.
 */
export const VOICE_PROMPT_TEXT: Readonly<Record<VoicePromptId, string>> = Object.freeze({
  'ask-extension': 'Please enter your short number, followed by the hash key.',
  'ask-pin': 'Please enter your pin, followed by the hash key.',
  'logged-in': 'You are logged in',
  'logged-out': 'You are logged out.',
  switched: 'You are now logged in',
  'wrong-pin': 'The short number or pin is not correct.',
  locked: 'Too many wrong attempts. Please try again later.',
  'not-allowed': 'Hot-desking is not allowed here.',
  'unknown-user': 'This short number is unknown.',
  'already-logged-in': 'You are already logged in on another phone.',
  'not-hotdesk-code': 'This is not a hot-desk code.',
  'no-user': 'This phone has no user. Dial star three five to log in.',
  'try-again': 'Please try again.',
  'no-input': 'No input received. Goodbye.',
  unavailable: 'The hot-desk service is not available right now. Please try again later.',
  goodbye: 'Goodbye.',
  as: 'as',
  'is-logged-out': 'is logged out.',
  'digit-0': 'zero',
  'digit-1': 'one',
  'digit-2': 'two',
  'digit-3': 'three',
  'digit-4': 'four',
  'digit-5': 'five',
  'digit-6': 'six',
  'digit-7': 'seven',
  'digit-8': 'eight',
  'digit-9': 'nine',
});

const ID_SET: ReadonlySet<string> = new Set(VOICE_PROMPT_IDS);

/** True when `s` is a voice prompt id. */
export function isVoicePromptId(s: string): s is VoicePromptId {
  return ID_SET.has(s);
}

/** True when `s` is a shipped prompt language. */
export function isVoiceLanguage(s: string): s is VoiceLanguage {
  return (VOICE_LANGUAGES as readonly string[]).includes(s);
}

/** The digits of `text` as `digit-N` prompts, one per digit; other characters are skipped. */
export function digitsSpeech(text: string): VoicePromptId[] {
  const out: VoicePromptId[] = [];
  for (const ch of text) if (ch >= '0' && ch <= '9') out.push(`digit-${ch}` as VoicePromptId);
  return out;
}

/** A PIN refusal, the same words whatever the reason (wrong PIN, unknown or PIN-less number). */
const REFUSED_PIN: readonly VoicePromptId[] = ['wrong-pin', 'try-again'];

/**
 * The prompt sequence that tells the caller what `outcome` means (one entry
 * per sound file, in the order to play them). Never empty, never names the
 * PIN. Where the sentence names the user (`logged-in`, `switched`,
 * `logged-out`, `no-change` with a user) the short number is read digit by
 * digit:
 *
 * | outcome | speech |
 * |---|---|
 * | `logged-in` | "You are logged in" "as" 1 0 1 |
 * | `switched` | "You are now logged in" "as" 1 0 1 |
 * | `logged-out` | 1 0 1 "is logged out." |
 * | `wrong-pin`, `unknown-user` | "The short number or pin is not correct." "Please try again." |
 * | `no-change` | as `logged-in` when it names a user, else "This phone has no user…" |
 * | any other | its own sentence |
 */
export function outcomeSpeech(outcome: DeskOutcome): VoicePromptId[] {
  const digits = digitsSpeech(outcome.user ?? '');
  const named = (head: VoicePromptId): VoicePromptId[] => (digits.length > 0 ? [head, 'as', ...digits] : [head]);
  switch (outcome.code) {
    case 'logged-in':
      return named('logged-in');
    case 'switched':
      return named('switched');
    case 'logged-out':
      return digits.length > 0 ? [...digits, 'is-logged-out'] : ['logged-out'];
    case 'wrong-pin':
    case 'unknown-user':
      return [...REFUSED_PIN];
    case 'no-change':
      return digits.length > 0 ? named('logged-in') : ['no-user'];
    case 'ask-extension':
    case 'ask-pin':
    case 'locked':
    case 'not-allowed':
    case 'already-logged-in':
    case 'not-hotdesk-code':
      return [outcome.code];
    default:
      return ['unavailable'];
  }
}
