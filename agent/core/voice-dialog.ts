/**
 * The spoken feature code (docs/voice.md "What a caller hears"): the
 * conversation the agent holds with a person who called the hot-desk line.
 *
 * The hot-desk decisions stay in the state machine (core/hotdesk-machine.ts):
 * this dialog only turns what was dialled and typed into feature-code digit
 * strings, asks the service to decide, speaks the outcome, and asks for the
 * missing parts when the outcome says so (`ask-extension` → collect the short
 * number, `ask-pin` → collect the PIN). So `*35`, `*35*<ext>` and
 * `*35*<ext>*<pin>` by voice follow exactly the table the screens and the PBX
 * endpoint follow.
 *
 * Digits come from RFC 4733 telephone-events or SIP INFO (the shell merges
 * them); `#` ends an entry, an entry also ends after `interDigitMs` without a
 * digit; nothing typed within `firstDigitMs` repeats the question once, then
 * says goodbye. A digit typed while a question is spoken interrupts it
 * (barge-in). A wrong PIN asks again, up to `maxPinAttempts` per call; every
 * attempt is a real decision, so it counts towards the lockout.
 *
 * Pure module: time is a parameter, the shell plays audio, owns the timer
 * (`wakeAt`) and runs the decisions.
 */
import { parseFeatureCode } from './feature-code.js';
import type { DeskOutcome } from './model.js';
import { outcomeSpeech, type VoicePromptId } from './voice-prompts.js';

/** Timing and limits of a {@link VoiceDialog}. */
export interface VoiceDialogOptions {
  /** Feature-code prefix of the site (`*35`). */
  readonly prefix: string;
  /** Time to type the first digit of an entry after the question ends (default 8 s). */
  readonly firstDigitMs?: number;
  /** Time between two digits before the entry counts as complete (default 4 s). */
  readonly interDigitMs?: number;
  /** PIN attempts in one call (default 3). */
  readonly maxPinAttempts?: number;
  /** Longest call (default 120 s): then goodbye. */
  readonly maxCallMs?: number;
}

/** What the shell must do next, in order. */
export type VoiceAction =
  /** Play these prompts one after the other; call {@link onPlayed} when done. */
  | { readonly kind: 'say'; readonly prompts: readonly VoicePromptId[] }
  /** Stop the prompt being played now (a digit interrupted it). */
  | { readonly kind: 'stop-playback' }
  /** Run this feature code for the calling phone; call {@link onOutcome} or {@link onDecideFailed}. */
  | { readonly kind: 'decide'; readonly digits: string }
  /** End the call (send BYE). */
  | { readonly kind: 'hangup' };

type Entry = 'ext' | 'pin';

type Phase =
  | { readonly name: 'deciding' }
  | { readonly name: 'speaking'; readonly next: 'hangup' | Entry }
  | { readonly name: 'collecting'; readonly entry: Entry; readonly digits: string; readonly deadline: number; readonly reprompted: boolean }
  | { readonly name: 'done' };

/** The dialog state (immutable; every function returns a new one). */
export interface VoiceDialog {
  readonly phase: Phase;
  readonly prefix: string;
  readonly firstDigitMs: number;
  readonly interDigitMs: number;
  readonly maxPinAttempts: number;
  readonly endsAt: number;
  /** Short number entered or dialled so far. */
  readonly ext: string | null;
  readonly pinAttempts: number;
  /** Whether the current question may be re-asked once on silence. */
  readonly reprompted: boolean;
}

/** One step: the new state, the actions to run in order, and when to call {@link onVoiceTimer}. */
export interface VoiceStep {
  readonly dialog: VoiceDialog;
  readonly actions: readonly VoiceAction[];
  readonly wakeAt: number | null;
}

const MAX_ENTRY = 15;

function step(dialog: VoiceDialog, actions: VoiceAction[]): VoiceStep {
  const p = dialog.phase;
  const closing = p.name === 'done' || (p.name === 'speaking' && p.next === 'hangup');
  const wake = p.name === 'collecting' ? Math.min(p.deadline, dialog.endsAt) : closing ? null : dialog.endsAt;
  return { dialog, actions, wakeAt: wake };
}

function withPhase(d: VoiceDialog, phase: Phase, patch: Partial<VoiceDialog> = {}): VoiceDialog {
  return { ...d, ...patch, phase };
}

function finish(d: VoiceDialog, prompts: readonly VoicePromptId[]): VoiceStep {
  if (prompts.length === 0) return step(withPhase(d, { name: 'done' }), [{ kind: 'hangup' }]);
  return step(withPhase(d, { name: 'speaking', next: 'hangup' }), [{ kind: 'say', prompts }]);
}

function ask(d: VoiceDialog, entry: Entry, prompts: readonly VoicePromptId[], reprompted = false): VoiceStep {
  return step(withPhase(d, { name: 'speaking', next: entry }, { reprompted }), [{ kind: 'say', prompts }]);
}

/**
 * Starts the dialog for a call to `dialled` (the Request-URI user) from a
 * phone that has a user (`phoneHasUser`) or not. A feature code is decided at
 * once; anything else is answered with the "no user" sentence on a phone
 * without a user (a phone without a user cannot call), or "not a hot-desk
 * code" otherwise. Emergency numbers never reach a dialog (the shell redirects
 * them before answering).
 */
export function startVoiceDialog(dialled: string, phoneHasUser: boolean, now: number, o: VoiceDialogOptions): VoiceStep {
  const d: VoiceDialog = {
    phase: { name: 'deciding' },
    prefix: o.prefix,
    firstDigitMs: o.firstDigitMs ?? 8_000,
    interDigitMs: o.interDigitMs ?? 4_000,
    maxPinAttempts: o.maxPinAttempts ?? 3,
    endsAt: now + (o.maxCallMs ?? 120_000),
    ext: null,
    pinAttempts: 0,
    reprompted: false,
  };
  const code = parseFeatureCode(dialled, o.prefix);
  if (code.kind === 'not-hotdesk') return finish(withPhase(d, { name: 'done' }), phoneHasUser ? ['not-hotdesk-code'] : ['no-user']);
  const ext = code.kind === 'toggle' ? null : code.ext;
  if (code.kind === 'ext-pin') return step(withPhase(d, { name: 'deciding' }, { ext, pinAttempts: 1 }), [{ kind: 'decide', digits: dialled }]);
  return step(withPhase(d, { name: 'deciding' }, { ext }), [{ kind: 'decide', digits: dialled }]);
}

/**
 * The service decided: speak the outcome. `ask-extension` and `ask-pin` lead
 * to an entry; a wrong PIN asks again while attempts remain in this call.
 */
export function onOutcome(d: VoiceDialog, outcome: DeskOutcome, _now: number): VoiceStep {
  if (d.phase.name !== 'deciding') return step(d, []);
  if (outcome.code === 'ask-extension') return ask(d, 'ext', ['ask-extension']);
  if (outcome.code === 'ask-pin') return ask(d, 'pin', ['ask-pin']);
  const speech = outcomeSpeech(outcome);
  // A wrong PIN (or an unknown number, which sounds the same) asks again while this call has attempts left.
  const pinRefused = outcome.code === 'wrong-pin' || (outcome.code === 'unknown-user' && d.pinAttempts > 0);
  if (pinRefused && d.pinAttempts < d.maxPinAttempts && d.ext !== null) {
    return ask(d, 'pin', speech.at(-1) === 'try-again' ? [...speech, 'ask-pin'] : [...speech, 'try-again', 'ask-pin']);
  }
  return finish(d, speech);
}

/** The decision could not be made (store unavailable, unknown phone): say so and hang up. */
export function onDecideFailed(d: VoiceDialog, _now: number): VoiceStep {
  if (d.phase.name === 'done') return step(d, []);
  return finish(d, ['unavailable']);
}

/** The prompts of the last `say` finished playing (or were stopped). */
export function onPlayed(d: VoiceDialog, now: number): VoiceStep {
  const p = d.phase;
  if (p.name !== 'speaking') return step(d, []);
  if (p.next === 'hangup') return step(withPhase(d, { name: 'done' }), [{ kind: 'hangup' }]);
  return step(withPhase(d, { name: 'collecting', entry: p.next, digits: '', deadline: now + d.firstDigitMs, reprompted: d.reprompted }), []);
}

function complete(d: VoiceDialog, entry: Entry, digits: string): VoiceStep {
  if (entry === 'ext') {
    return step(withPhase(d, { name: 'deciding' }, { ext: digits }), [{ kind: 'decide', digits: `${d.prefix}*${digits}` }]);
  }
  return step(withPhase(d, { name: 'deciding' }, { pinAttempts: d.pinAttempts + 1 }), [{ kind: 'decide', digits: `${d.prefix}*${d.ext ?? ''}*${digits}` }]);
}

/**
 * A digit arrived (`0-9`, `*`, `#`, `A-D`). While a question is spoken it
 * interrupts it and starts the entry; `#` completes a non-empty entry; `*`
 * starts the entry over; letters are ignored. Digits typed while the agent
 * decides or speaks an outcome are dropped.
 */
export function onDigit(d: VoiceDialog, digit: string, now: number): VoiceStep {
  const p = d.phase;
  if (p.name === 'speaking' && p.next !== 'hangup') {
    const collecting = withPhase(d, { name: 'collecting', entry: p.next, digits: '', deadline: now + d.firstDigitMs, reprompted: d.reprompted });
    const next = onDigit(collecting, digit, now);
    return { ...next, actions: [{ kind: 'stop-playback' }, ...next.actions] };
  }
  if (p.name !== 'collecting') return step(d, []);
  if (digit === '#') {
    if (p.digits === '') return step(d, []);
    return complete(d, p.entry, p.digits);
  }
  if (digit === '*') return step(withPhase(d, { ...p, digits: '', deadline: now + d.firstDigitMs }), []);
  if (!/^[0-9]$/.test(digit)) return step(d, []);
  const digits = p.digits + digit;
  // Longer than any short number or PIN: the entry is complete (bounded state whatever is typed).
  if (digits.length >= MAX_ENTRY) return complete(d, p.entry, digits);
  return step(withPhase(d, { ...p, digits, deadline: now + d.interDigitMs }), []);
}

/**
 * Timer: an entry with digits is complete after the inter-digit time; an
 * empty one repeats its question once, then ends with "no input"; the whole
 * call ends at `maxCallMs`.
 */
export function onVoiceTimer(d: VoiceDialog, now: number): VoiceStep {
  const p = d.phase;
  if (p.name === 'done') return step(d, []);
  if (now >= d.endsAt) return p.name === 'speaking' && p.next === 'hangup' ? step(d, []) : finish(d, ['no-input']);
  if (p.name !== 'collecting' || now < p.deadline) return step(d, []);
  if (p.digits !== '') return complete(d, p.entry, p.digits);
  if (!p.reprompted) return ask(d, p.entry, ['try-again', p.entry === 'ext' ? 'ask-extension' : 'ask-pin'], true);
  return finish(d, ['no-input']);
}
