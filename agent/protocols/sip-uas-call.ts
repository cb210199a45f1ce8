/**
 * One call on the hot-desk line as a pure UAS dialog machine (RFC 3261 §12,
 * §13.3, §14, §15; RFC 3264 offers in re-INVITEs; legacy INFO DTMF, RFC 6086
 * §2). The agent answers calls in its own voice; this machine does the SIP.
 *
 * Life of a call:
 * - {@link receiveUasCall} takes the INVITE (already authenticated and within
 *   the call limit) and {@link answerUasCall} answers it: 200 OK with the SDP
 *   answer from the injected negotiator, 488 when negotiation fails or the
 *   INVITE carries no offer (answering an offer-less INVITE would mean
 *   offering in the 200 and reading the answer in the ACK: not supported),
 *   415 for a non-SDP body. {@link startUasCall} does both at once. That
 *   final answer comes back as `inviteAnswer`: hand it to the INVITE's server
 *   transaction (`onServerRespond`), which sends it once.
 * - The 2xx is then retransmitted here (T1 doubling to T2) until the ACK;
 *   after 64*T1 without ACK the call ends (`ack-timeout`) with a BYE
 *   (§13.3.1.4). The ACK makes the call `established`.
 * - CANCEL (§9.2): 200 to the CANCEL; before the final answer also 487 to the
 *   INVITE (`cancelled`), after it nothing else.
 * - In the dialog: BYE -> 200 (`remote-bye`); re-INVITE -> negotiated again
 *   (`media` event, hold included), 488/415 leave the call as it was, and a
 *   re-INVITE while a 2xx still waits for its ACK gets 491; INFO with a DTMF
 *   body -> 200 and a `dtmf` event, another INFO type 415; OPTIONS 200;
 *   REGISTER/SUBSCRIBE/NOTIFY 405 and other methods (UPDATE, PRACK, REFER,
 *   MESSAGE, extensions) 501, with Allow. A request with a lower CSeq than
 *   the last one gets 500 (§12.2.2); a retransmission gets the same answer
 *   again.
 * - {@link hangupUasCall}: a BYE through the non-INVITE client transaction
 *   machine (CSeq one above ours, Request-URI the remote target, Route from
 *   Record-Route), after the ACK if it has not come yet (§15); `local-bye`
 *   once answered, `bye-timeout` when timer F fires.
 *
 * Everything in `send` goes to the dialog's flow: the INVITE's source
 * address and port, never a host from Contact or Route. Each call emits one
 * `ended` event. Branches come from the `random` option, time from `now`.
 *
 * Pure module: no I/O.
 */
import {
  type CallEvent,
  type Handled,
  okHeaders,
  out,
  type Pending,
  reject,
  respond,
  sendBye,
  txActive,
  type UasCallOptions,
  type UasCallState,
  type UasCallStep,
} from './sip-call-state.js';
import { onClientResponse, onClientTimer, sipTimers } from './sip-client-transaction.js';
import { addressTag, CALL_ALLOW, dialogFromInvite } from './sip-dialog.js';
import { parseCSeq, parseNameAddr, parseSipUri, parseVia } from './sip-headers.js';
import { INFO_DTMF_TYPES, parseInfoDtmf } from './sip-info-dtmf.js';
import { AGENT_METHODS, bodyText, contentType, getHeader, getHeaders, type SipHeader, type SipRequest, type SipResponse } from './sip-message.js';

export type { CallEndReason, CallEvent, CallPhase, Negotiation, Negotiator, UasCallOptions, UasCallState, UasCallStep } from './sip-call-state.js';

/** Takes an INVITE into a call that has no answer yet (answer it with {@link answerUasCall}). */
export function receiveUasCall<M>(invite: SipRequest, opts: UasCallOptions<M>, _now: number): UasCallStep<M> {
  const { timers, localTag, ...config } = opts;
  const inviteCSeq = parseCSeq(getHeader(invite, 'CSeq'))?.seq ?? 0;
  const dialog = dialogFromInvite(invite, localTag);
  const base: UasCallState<M> = {
    phase: 'offered',
    dialog: dialog ?? {
      callId: getHeader(invite, 'Call-ID') ?? '',
      localTag,
      remoteTag: '',
      localAddress: '',
      remoteAddress: '',
      remoteTarget: '',
      routeSet: [],
      localCSeq: 0,
      remoteCSeq: 0,
    },
    timers: sipTimers(timers),
    config,
    invite,
    inviteCSeq,
    inviteAnswer: null,
    pending: null,
    lastRemote: null,
    bye: null,
    hangupPending: false,
    ended: false,
    lingerUntil: null,
    media: null,
  };
  return dialog ? out(base) : reject(base, invite, 400, [], 'Missing or invalid Contact');
}

/** Answers the INVITE of an offered call (200 with the SDP answer, or 488/415). */
export function answerUasCall<M>(state: UasCallState<M>, now: number): UasCallStep<M> {
  const inv = state.invite;
  if (state.phase !== 'offered' || !inv) return out(state);
  if (inv.bodyBytes.length === 0) return reject(state, inv, 488, [], 'Offer required');
  if (contentType(inv) !== 'application/sdp') return reject(state, inv, 415, [{ name: 'Accept', value: 'application/sdp' }]);
  const n = state.config.negotiate(bodyText(inv) ?? '');
  if (!n.ok) return reject(state, inv, 488);
  const rr = getHeaders(inv, 'Record-Route').map((value) => ({ name: 'Record-Route', value }));
  const wire = respond(state, inv, 200, [...rr, ...okHeaders(state)], n.answer);
  const t = state.timers;
  const pending: Pending = { cseq: state.inviteCSeq, wire, retransmitAt: now + t.t1Ms, interval: t.t1Ms, giveUpAt: now + t.timeoutMs, initial: true };
  const s: UasCallState<M> = { ...state, phase: 'answering', invite: null, inviteAnswer: wire, pending, media: n.media };
  return out(s, [], [{ kind: 'media', media: n.media }], { status: 200, wire });
}

/** {@link receiveUasCall} then {@link answerUasCall}. */
export function startUasCall<M>(invite: SipRequest, opts: UasCallOptions<M>, now: number): UasCallStep<M> {
  const received = receiveUasCall(invite, opts, now);
  return received.state.phase === 'offered' ? answerUasCall(received.state, now) : received;
}

/**
 * Whether `req` belongs to this call: same Call-ID and From tag, and either
 * our To tag (in the dialog) or no To tag with the INVITE's CSeq (a
 * retransmitted INVITE, its CANCEL or ACK).
 */
export function matchesCall<M>(state: UasCallState<M>, req: SipRequest): boolean {
  const d = state.dialog;
  if (getHeader(req, 'Call-ID') !== d.callId || addressTag(getHeader(req, 'From')) !== d.remoteTag) return false;
  const toTag = addressTag(getHeader(req, 'To'));
  if (toTag === d.localTag) return true;
  return toTag === '' && ['INVITE', 'ACK', 'CANCEL'].includes(req.method) && parseCSeq(getHeader(req, 'CSeq'))?.seq === state.inviteCSeq;
}

/** A request that {@link matchesCall} (see the module comment for the answers). */
export function onCallRequest<M>(state: UasCallState<M>, req: SipRequest, now: number): UasCallStep<M> {
  const cseq = parseCSeq(getHeader(req, 'CSeq'))?.seq ?? -1;
  if (req.method === 'CANCEL') return onCancel(state, req);
  if (req.method === 'ACK') return onAck(state, cseq, now);
  if (addressTag(getHeader(req, 'To')) !== state.dialog.localTag) {
    // The initial INVITE again: its final answer again (before it, the INVITE's transaction answers).
    return out(state, req.method === 'INVITE' && state.inviteAnswer ? [{ wire: state.inviteAnswer }] : []);
  }
  const last = state.lastRemote;
  if (last && last.cseq === cseq && last.method === req.method) return out(state, [{ wire: last.response }]);
  if (state.phase === 'ended' || state.phase === 'offered') return out(state, [{ wire: respond(state, req, 481) }]);
  if (cseq <= state.dialog.remoteCSeq)
    return out(state, [{ wire: respond(state, req, 500, [{ name: 'Retry-After', value: '1' }], undefined, 'CSeq out of order') }]);
  const s: UasCallState<M> = { ...state, dialog: { ...state.dialog, remoteCSeq: cseq } };
  const r = inDialog(s, req, now);
  const recorded: UasCallState<M> = { ...r.state, lastRemote: { cseq, method: req.method, response: r.response } };
  return out(recorded, [{ wire: r.response }, ...r.send], r.events);
}

function inDialog<M>(s: UasCallState<M>, req: SipRequest, now: number): Handled<M> {
  const plain = (status: number, headers: readonly SipHeader[] = []): Handled<M> => ({
    state: s,
    response: respond(s, req, status, headers),
    send: [],
    events: [],
  });
  switch (req.method) {
    case 'BYE': {
      const ended: UasCallState<M> = { ...s, phase: 'ended', pending: null, hangupPending: false, ended: true, lingerUntil: now + s.timers.timeoutMs };
      return { state: ended, response: respond(s, req, 200), send: [], events: s.ended ? [] : [{ kind: 'ended', reason: 'remote-bye' }] };
    }
    case 'INVITE':
      return reinvite(s, req, now);
    case 'INFO': {
      const info = parseInfoDtmf(contentType(req), bodyText(req) ?? '\0');
      if (info.kind === 'unsupported') return plain(415, [{ name: 'Accept', value: INFO_DTMF_TYPES.join(', ') }]);
      const quiet = info.kind !== 'dtmf' || s.phase === 'ending';
      const event: CallEvent<M> | null = quiet
        ? null
        : { kind: 'dtmf', digit: info.digit, via: 'info', ...(info.durationMs !== undefined ? { durationMs: info.durationMs } : {}) };
      return { ...plain(200), events: event ? [event] : [] };
    }
    case 'OPTIONS':
      return plain(200, [
        { name: 'Allow', value: CALL_ALLOW },
        { name: 'Accept', value: 'application/sdp' },
      ]);
    default:
      return plain(AGENT_METHODS.includes(req.method) ? 405 : 501, [{ name: 'Allow', value: CALL_ALLOW }]);
  }
}

/** A re-INVITE (RFC 3261 §14.2, RFC 3264 §8): a new offer, or a refresh of the remote target. */
function reinvite<M>(s: UasCallState<M>, req: SipRequest, now: number): Handled<M> {
  const refuse = (status: number, headers: readonly SipHeader[] = [], reason?: string): Handled<M> => ({
    state: s,
    response: respond(s, req, status, headers, undefined, reason),
    send: [],
    events: [],
  });
  // The previous INVITE's 2xx still waits for its ACK: the offer/answer exchange is not over (RFC 3261 §14.1, RFC 6337 §3.1).
  if (s.pending) return refuse(491);
  if (s.phase === 'ending') return refuse(481);
  if (req.bodyBytes.length === 0) return refuse(488, [], 'Offer required'); // see answerUasCall: offer-less INVITEs are not supported
  if (contentType(req) !== 'application/sdp') return refuse(415, [{ name: 'Accept', value: 'application/sdp' }]);
  const n = s.config.negotiate(bodyText(req) ?? '');
  if (!n.ok) return refuse(488); // the session stays as it was (§14.2)
  const contact = parseNameAddr(getHeader(req, 'Contact') ?? '');
  const remoteTarget = contact && parseSipUri(contact.uri) ? contact.uri : s.dialog.remoteTarget;
  const base: UasCallState<M> = { ...s, dialog: { ...s.dialog, remoteTarget }, media: n.media };
  const wire = respond(base, req, 200, okHeaders(base), n.answer);
  const t = s.timers;
  const cseq = base.dialog.remoteCSeq;
  const pending: Pending = { cseq, wire, retransmitAt: now + t.t1Ms, interval: t.t1Ms, giveUpAt: now + t.timeoutMs, initial: false };
  return { state: { ...base, pending }, response: wire, send: [], events: [{ kind: 'media', media: n.media }] };
}

function onAck<M>(state: UasCallState<M>, cseq: number, now: number): UasCallStep<M> {
  const p = state.pending;
  if (!p || p.cseq !== cseq) return out(state); // an ACK for a non-2xx answer, or a duplicate: absorbed
  let s: UasCallState<M> = { ...state, pending: null };
  const events: CallEvent<M>[] = [];
  if (p.initial && s.phase === 'answering') {
    s = { ...s, phase: 'confirmed' };
    events.push({ kind: 'established' });
  }
  if (!s.hangupPending) return out(s, [], events);
  const bye = sendBye(s, now);
  return out(bye.state, bye.send, events);
}

function onCancel<M>(state: UasCallState<M>, req: SipRequest): UasCallStep<M> {
  const ok = respond(state, req, 200);
  if (state.phase !== 'offered' || !state.invite) return out(state, [{ wire: ok }]);
  const r = reject(state, state.invite, 487);
  return { ...r, send: [{ wire: ok }] };
}

/**
 * The agent hangs up: before the answer a 480 to the INVITE (`rejected`);
 * while the 2xx waits for its ACK, a BYE as soon as the ACK comes (or the
 * ACK times out, §15); once confirmed, a BYE now. Later calls do nothing.
 */
export function hangupUasCall<M>(state: UasCallState<M>, now: number): UasCallStep<M> {
  if (state.phase === 'offered' && state.invite) return reject(state, state.invite, 480);
  if (state.phase === 'answering') return out({ ...state, hangupPending: true });
  if (state.phase !== 'confirmed') return out(state);
  const bye = sendBye(state, now);
  return out(bye.state, bye.send);
}

/** A response from the phone: the answer to our BYE (matched by branch and CSeq) ends the call. */
export function onCallResponse<M>(state: UasCallState<M>, res: SipResponse, now: number): UasCallStep<M> {
  const bye = state.bye;
  const cseq = parseCSeq(getHeader(res, 'CSeq'));
  if (!bye || parseVia(getHeader(res, 'Via') ?? '')?.branch !== bye.branch || cseq?.method !== 'BYE' || cseq.seq !== bye.cseq) return out(state);
  const st = onClientResponse(bye.tx, res.status, now);
  const s: UasCallState<M> = { ...state, bye: { ...bye, tx: st.state } };
  if (st.event !== 'final') return out(s);
  return out({ ...s, phase: 'ended', ended: true }, [], state.ended ? [] : [{ kind: 'ended', reason: 'local-bye' }]);
}

/** The timer fired: 2xx retransmission or ACK timeout, BYE retransmission or timeout, end of the linger. */
export function onCallTimer<M>(state: UasCallState<M>, now: number): UasCallStep<M> {
  let s = state;
  const send: { wire: string }[] = [];
  const events: CallEvent<M>[] = [];
  if (s.lingerUntil !== null && now >= s.lingerUntil) s = { ...s, lingerUntil: null };
  const p = s.pending;
  if (p && now >= p.giveUpAt) {
    if (!s.ended) events.push({ kind: 'ended', reason: 'ack-timeout' });
    const bye = sendBye({ ...s, ended: true }, now);
    s = bye.state;
    send.push(...bye.send);
  } else if (p && now >= p.retransmitAt) {
    const interval = Math.min(p.interval * 2, s.timers.t2Ms);
    s = { ...s, pending: { ...p, retransmitAt: now + interval, interval } };
    send.push({ wire: p.wire });
  }
  const bye = s.bye;
  if (bye && txActive(bye.tx)) {
    const st = onClientTimer(bye.tx, now);
    s = { ...s, bye: { ...bye, tx: st.state } };
    if (st.transmit) send.push({ wire: bye.wire });
    if (st.event === 'timeout') {
      if (!s.ended) events.push({ kind: 'ended', reason: 'bye-timeout' });
      s = { ...s, phase: 'ended', ended: true };
    }
  }
  return out(s, send, events);
}
