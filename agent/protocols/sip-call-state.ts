/**
 * The state, events and step results of a hot-desk-line call (the machine is
 * sip-uas-call.ts), with the helpers its steps share: building answers in
 * the dialog, rejecting the INVITE, sending the BYE, and computing the next
 * wake-up time.
 *
 * Pure module: no I/O.
 */
import { type ClientTransactionState, type SipTimerOverrides, type SipTimerSettings, startClientTransaction } from './sip-client-transaction.js';
import { buildDialogRequest, CALL_ALLOW, type SipDialog } from './sip-dialog.js';
import type { SipHeader, SipRequest } from './sip-message.js';
import { buildSipResponse, type SipSource } from './sip-response-builder.js';

/** Why a call ended. */
export type CallEndReason = 'remote-bye' | 'local-bye' | 'cancelled' | 'ack-timeout' | 'rejected' | 'bye-timeout';

/** What a step tells the shell. */
export type CallEvent<M> =
  | { readonly kind: 'established' }
  | { readonly kind: 'media'; readonly media: M }
  | { readonly kind: 'dtmf'; readonly digit: string; readonly via: 'info'; readonly durationMs?: number }
  | { readonly kind: 'ended'; readonly reason: CallEndReason };

/** The SDP negotiator's verdict on an offer (written elsewhere; `M` is its media description). */
export type Negotiation<M> = { readonly ok: true; readonly answer: string; readonly media: M } | { readonly ok: false };

/** Answers an SDP offer. Pure. */
export type Negotiator<M> = (offerSdp: string) => Negotiation<M>;

/** Inputs of a call. */
export interface UasCallOptions<M> {
  /** Our To tag. */
  readonly localTag: string;
  /** Our Contact URI (e.g. `sip:hotdesk@10.0.0.2:5060`). */
  readonly localContact: string;
  /** Our address as written in the Via of our requests. */
  readonly local: { readonly host: string; readonly port: number };
  /** The INVITE's source: the dialog's flow, where everything is sent. */
  readonly source: SipSource;
  readonly negotiate: Negotiator<M>;
  /** Fresh random tokens (branches). */
  readonly random: () => string;
  /** Server (answers) / User-Agent (requests) header value. */
  readonly userAgent?: string;
  readonly timers?: SipTimerOverrides;
}

/** Where a call stands. */
export type CallPhase = 'offered' | 'answering' | 'confirmed' | 'ending' | 'ended';

/** A 2xx to an INVITE waiting for its ACK. */
export interface Pending {
  readonly cseq: number;
  readonly wire: string;
  readonly retransmitAt: number;
  readonly interval: number;
  readonly giveUpAt: number;
  readonly initial: boolean;
}

/** Immutable state of a call. */
export interface UasCallState<M> {
  readonly phase: CallPhase;
  readonly dialog: SipDialog;
  readonly timers: SipTimerSettings;
  readonly config: Omit<UasCallOptions<M>, 'timers' | 'localTag'>;
  /** The INVITE, while it has no final answer. */
  readonly invite: SipRequest | null;
  readonly inviteCSeq: number;
  /** The final answer to the INVITE (re-sent to a late INVITE retransmission). */
  readonly inviteAnswer: string | null;
  readonly pending: Pending | null;
  /** The answer to the last in-dialog request, for its retransmissions. */
  readonly lastRemote: { readonly cseq: number; readonly method: string; readonly response: string } | null;
  readonly bye: { readonly branch: string; readonly cseq: number; readonly wire: string; readonly tx: ClientTransactionState } | null;
  readonly hangupPending: boolean;
  /** The `ended` event was emitted. */
  readonly ended: boolean;
  /** Until when an ended call still answers retransmissions. */
  readonly lingerUntil: number | null;
  readonly media: M | null;
}

/** Result of every step. */
export interface UasCallStep<M> {
  readonly state: UasCallState<M>;
  /** Datagrams to send now, in order, to the dialog's flow. */
  readonly send: readonly { readonly wire: string }[];
  /** When {@link onCallTimer} should run next; null when no timer is due. */
  readonly wakeAt: number | null;
  readonly events: readonly CallEvent<M>[];
  /** The call is over and nothing is left to absorb: forget it. */
  readonly done: boolean;
  /** The final answer to the initial INVITE, for its server transaction (which sends it). */
  readonly inviteAnswer?: { readonly status: number; readonly wire: string };
}

/** Datagrams to send to the dialog's flow. */
export type Sent = readonly { readonly wire: string }[];
/** No timer due. */
export const NEVER = Number.POSITIVE_INFINITY;
/** Whether a client transaction still waits for an answer. */
export const txActive = (tx: ClientTransactionState): boolean => tx.phase === 'trying' || tx.phase === 'proceeding';

/** Wraps a new state into a step: next wake-up (2xx retransmission or give-up, BYE timers, linger) and `done`. */
export function out<M>(
  state: UasCallState<M>,
  send: Sent = [],
  events: readonly CallEvent<M>[] = [],
  answer?: { status: number; wire: string },
): UasCallStep<M> {
  const tx = state.bye?.tx;
  const byeWake = tx && txActive(tx) ? Math.min(tx.retransmitAt ?? NEVER, tx.timeoutAt) : NEVER;
  const pendingWake = state.pending ? Math.min(state.pending.retransmitAt, state.pending.giveUpAt) : NEVER;
  const wake = Math.min(byeWake, pendingWake, state.lingerUntil ?? NEVER);
  const done = state.phase === 'ended' && wake === NEVER;
  return { state, send, wakeAt: wake === NEVER ? null : wake, events, done, ...(answer ? { inviteAnswer: answer } : {}) };
}

/** An answer to `req` inside the call: our To tag, the stamped Via, the Server header (RFC 3261 §8.2.6). */
export function respond<M>(s: UasCallState<M>, req: SipRequest, status: number, headers: readonly SipHeader[] = [], body?: string, reason?: string): string {
  const ua = s.config.userAgent ? [{ name: 'Server', value: s.config.userAgent }] : [];
  return buildSipResponse(req, {
    status,
    toTag: s.dialog.localTag,
    source: s.config.source,
    headers: [...headers, ...ua],
    ...(body !== undefined ? { body } : {}),
    ...(reason !== undefined ? { reason } : {}),
  });
}

/** Headers of a 2xx to an INVITE: Contact (the remote target of the phone, §12.1.1), Allow, Content-Type. */
export function okHeaders<M>(s: UasCallState<M>): SipHeader[] {
  return [
    { name: 'Contact', value: `<${s.config.localContact}>` },
    { name: 'Allow', value: CALL_ALLOW },
    { name: 'Content-Type', value: 'application/sdp' },
  ];
}

/** Answers the INVITE with a final failure and ends the call (`cancelled` for 487, else `rejected`). */
export function reject<M>(state: UasCallState<M>, inv: SipRequest, status: number, headers: readonly SipHeader[] = [], reason?: string): UasCallStep<M> {
  const wire = respond(state, inv, status, headers, undefined, reason);
  const s: UasCallState<M> = { ...state, phase: 'ended', invite: null, inviteAnswer: wire, ended: true };
  return out(s, [], [{ kind: 'ended', reason: status === 487 ? 'cancelled' : 'rejected' }], { status, wire });
}

/** Sends the BYE through a non-INVITE client transaction (RFC 3261 §15.1.1, §17.1.2); the call is `ending`. */
export function sendBye<M>(s: UasCallState<M>, now: number): { state: UasCallState<M>; send: Sent } {
  const c = s.config;
  const req = buildDialogRequest(s.dialog, 'BYE', { local: c.local, branch: c.random(), ...(c.userAgent ? { userAgent: c.userAgent } : {}) });
  const tx = startClientTransaction(now, s.timers).state;
  const bye = { branch: req.branch, cseq: req.cseq, wire: req.wire, tx };
  return { state: { ...s, dialog: req.dialog, phase: 'ending', hangupPending: false, pending: null, bye }, send: [{ wire: req.wire }] };
}

/** What an in-dialog request handler produced: the answer, other datagrams and events. */
export interface Handled<M> {
  readonly state: UasCallState<M>;
  readonly response: string;
  readonly send: Sent;
  readonly events: readonly CallEvent<M>[];
}
