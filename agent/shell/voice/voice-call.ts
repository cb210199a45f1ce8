/**
 * One call on the hot-desk line (docs/voice.md "A call, step by step"): the
 * shell around three pure machines. The SIP dialog
 * (protocols/sip-uas-call.ts) answers the INVITE with an SDP answer
 * (protocols/sdp.ts) and ends the call; the RTP session (rtp-session.ts)
 * plays prompts and hears RFC 4733 digits; the spoken feature code
 * (core/voice-dialog.ts) decides what to say and when to ask the hot-desk
 * service. This class owns the timers and moves events between them.
 *
 * Everything SIP goes to the INVITE's source address and port (the flow the
 * authenticated phone or trusted PBX used); RTP goes to the address in the
 * caller's SDP (the caller is authenticated) and is accepted only from it.
 */
import { randomBytes } from 'node:crypto';
import { isHotdeskError } from '../../core/errors.js';
import type { DeskOutcome } from '../../core/model.js';
import { onDecideFailed, onDigit, onOutcome, onPlayed, onVoiceTimer, startVoiceDialog, type VoiceDialog, type VoiceStep } from '../../core/voice-dialog.js';
import { negotiateAudio, type NegotiatedMedia } from '../../protocols/sdp.js';
import { formatHost, type SipRequest, type SipResponse } from '../../protocols/sip-message.js';
import type { SipSource } from '../../protocols/sip-response-builder.js';
import type { SipTimerOverrides } from '../../protocols/sip-client-transaction.js';
import {
  hangupUasCall,
  matchesCall,
  onCallRequest,
  onCallResponse,
  onCallTimer,
  startUasCall,
  type UasCallState,
  type UasCallStep,
} from '../../protocols/sip-uas-call.js';
import type { Logger } from '../logger.js';
import type { PromptLibrary } from './prompt-library.js';
import { RtpSession } from './rtp-session.js';
import type { RtpPortPool } from './rtp-port-pool.js';

/** What a call needs from the agent. */
export interface VoiceCallDeps {
  /** Sends a SIP datagram from the agent's SIP port. */
  readonly send: (wire: string, to: SipSource) => void;
  /** Answers the INVITE's server transaction (it sends the final answer once). */
  readonly answerInvite: (wire: string, status: number) => void;
  readonly prompts: () => PromptLibrary;
  readonly rtpPool: RtpPortPool;
  /** Runs a feature code for a phone (HotdeskService.dial). */
  readonly dial: (mac: string, digits: string) => Promise<DeskOutcome>;
  /** Whether the phone has a user now. */
  readonly hasUser: (mac: string) => Promise<boolean>;
  readonly prefix: string;
  /** The agent's address as seen by the caller, and its SIP port. */
  readonly local: { readonly host: string; readonly port: number };
  readonly userAgent: string;
  readonly sipTimers?: SipTimerOverrides;
  readonly dialogTiming?: { readonly firstDigitMs?: number; readonly interDigitMs?: number; readonly maxCallMs?: number };
  readonly log: Logger;
  /** Told once when the call is over and forgotten. */
  readonly onDone: (call: VoiceCall) => void;
}

const rand = (): string => randomBytes(8).toString('hex');
const mono = (): number => performance.now();

/** A call in progress. */
export class VoiceCall {
  private sip: UasCallState<NegotiatedMedia> | null = null;
  private dialog: VoiceDialog | null = null;
  private sipTimer: NodeJS.Timeout | undefined;
  private voiceTimer: NodeJS.Timeout | undefined;
  private sessionVersion = 1;
  private readonly sessionId = String(Date.now());
  private finished = false;
  /** Digits heard while the dialog starts (asking whether the phone has a user), replayed once it has. */
  private early: string[] | null = null;

  private constructor(
    private readonly d: VoiceCallDeps,
    private readonly rtp: RtpSession,
    readonly mac: string,
    readonly dialled: string,
    readonly source: SipSource,
  ) {
    rtp.on('dtmf', (digit) => this.digit(digit));
  }

  /**
   * Answers `invite` from `source` for phone `mac` (authenticated by the
   * caller of this function). Throws `busy` when no RTP port is free.
   */
  static async answer(d: VoiceCallDeps, invite: SipRequest, source: SipSource, mac: string, dialled: string): Promise<VoiceCall> {
    const rtp = await RtpSession.open(d.rtpPool);
    const call = new VoiceCall(d, rtp, mac, dialled, source);
    const step = startUasCall<NegotiatedMedia>(
      invite,
      {
        localTag: rand(),
        localContact: `sip:hotdesk@${formatHost(d.local.host)}:${d.local.port}`,
        local: d.local,
        source,
        negotiate: (offer) => {
          const n = negotiateAudio(offer, { address: d.local.host, port: rtp.port, sessionId: call.sessionId, sessionVersion: call.sessionVersion++ });
          return n.ok ? n : { ok: false };
        },
        random: rand,
        userAgent: d.userAgent,
        ...(d.sipTimers ? { timers: d.sipTimers } : {}),
      },
      mono(),
    );
    call.applySip(step);
    return call;
  }

  /** The Call-ID of the dialog. */
  get callId(): string {
    return this.sip?.dialog.callId ?? '';
  }

  /** Whether the call is still up (not ended; an ended call may linger to absorb retransmissions). */
  get live(): boolean {
    return this.sip !== null && this.sip.phase !== 'ended';
  }

  /** Whether `req` belongs to this call. */
  matches(req: SipRequest): boolean {
    return this.sip !== null && matchesCall(this.sip, req);
  }

  /** A request of this call (ACK, BYE, CANCEL, INFO, re-INVITE, ...). */
  request(req: SipRequest): void {
    if (this.sip) this.applySip(onCallRequest(this.sip, req, mono()));
  }

  /** A response to our BYE. */
  response(res: SipResponse): void {
    if (this.sip) this.applySip(onCallResponse(this.sip, res, mono()));
  }

  /** Hangs up now (agent stopping). */
  hangup(): void {
    if (this.sip) this.applySip(hangupUasCall(this.sip, mono()));
  }

  private applySip(step: UasCallStep<NegotiatedMedia>): void {
    this.sip = step.state;
    if (step.inviteAnswer) this.d.answerInvite(step.inviteAnswer.wire, step.inviteAnswer.status);
    for (const s of step.send) this.d.send(s.wire, this.source);
    for (const e of step.events) {
      if (e.kind === 'media') this.rtp.setRemote(e.media);
      else if (e.kind === 'established') this.startDialog();
      else if (e.kind === 'dtmf') this.digit(e.digit);
      else if (e.kind === 'ended') this.ended(e.reason);
    }
    if (this.sipTimer) clearTimeout(this.sipTimer);
    this.sipTimer = undefined;
    if (step.done) {
      this.finish();
      return;
    }
    if (step.wakeAt !== null) {
      this.sipTimer = setTimeout(() => this.sip && this.applySip(onCallTimer(this.sip, mono())), Math.max(0, step.wakeAt - mono()));
      this.sipTimer.unref?.();
    }
  }

  private startDialog(): void {
    if (this.dialog !== null || this.early !== null) return;
    this.early = [];
    const start = (hasUser: boolean): VoiceStep => startVoiceDialog(this.dialled, hasUser, Date.now(), { prefix: this.d.prefix, ...this.d.dialogTiming });
    Promise.resolve()
      .then(() => this.d.hasUser(this.mac))
      .then(
        (hasUser) => {
          const early = this.early ?? [];
          this.early = null;
          if (this.finished || this.sip?.phase === 'ended') return;
          this.applyVoice(start(hasUser));
          for (const digit of early) this.digit(digit);
        },
        (e: unknown) => {
          this.early = null;
          this.d.log.warn('voice call could not read the phone', { phone: this.mac, code: isHotdeskError(e) ? e.code : 'internal' });
          // Nothing can be decided: say so and hang up.
          if (!this.finished && this.sip?.phase !== 'ended') this.applyVoice(onDecideFailed(start(false).dialog, Date.now()));
        },
      )
      .catch((e: unknown) => this.d.log.warn('voice dialog failed', { phone: this.mac, error: String(e) }));
  }

  private digit(digit: string): void {
    if (this.early !== null) {
      if (this.early.length < 32) this.early.push(digit);
    } else if (this.dialog) this.applyVoice(onDigit(this.dialog, digit, Date.now()));
  }

  private applyVoice(step: VoiceStep): void {
    this.dialog = step.dialog;
    if (this.voiceTimer) clearTimeout(this.voiceTimer);
    this.voiceTimer = undefined;
    for (const a of step.actions) {
      switch (a.kind) {
        case 'say': {
          const audio = this.d.prompts().sequence(a.prompts);
          void this.rtp.play(audio).then((r) => {
            if (r === 'done' && this.dialog && !this.finished) this.applyVoice(onPlayed(this.dialog, Date.now()));
          });
          break;
        }
        case 'stop-playback':
          this.rtp.stop();
          break;
        case 'decide':
          this.decide(a.digits);
          return; // decide re-enters applyVoice with the outcome
        case 'hangup':
          if (this.sip) this.applySip(hangupUasCall(this.sip, mono()));
          break;
      }
    }
    if (step.wakeAt !== null && !this.finished) {
      this.voiceTimer = setTimeout(() => this.dialog && this.applyVoice(onVoiceTimer(this.dialog, Date.now())), Math.max(0, step.wakeAt - Date.now()));
      this.voiceTimer.unref?.();
    }
  }

  /**
   * Asks the hot-desk service; meanwhile the dialog is `deciding` (digits are dropped, the call may
   * end). The outcome goes to the dialog as it is then.
   */
  private decide(digits: string): void {
    if (!this.dialog) return;
    Promise.resolve()
      .then(() => this.d.dial(this.mac, digits))
      .then(
        (outcome) => {
          this.d.log.info('voice call decision', { phone: this.mac, outcome: outcome.code });
          if (this.dialog && !this.finished) this.applyVoice(onOutcome(this.dialog, outcome, Date.now()));
        },
        (e: unknown) => {
          this.d.log.warn('hot-desk decision failed on a voice call', { phone: this.mac, code: isHotdeskError(e) ? e.code : 'internal' });
          if (this.dialog && !this.finished) this.applyVoice(onDecideFailed(this.dialog, Date.now()));
        },
      )
      .catch((e: unknown) => this.d.log.warn('voice dialog failed', { phone: this.mac, error: String(e) }));
  }

  private ended(reason: string): void {
    this.d.log.debug('voice call ended', { phone: this.mac, reason });
    this.rtp.close();
    if (this.voiceTimer) clearTimeout(this.voiceTimer);
    this.voiceTimer = undefined;
    this.dialog = null;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.rtp.close();
    if (this.voiceTimer) clearTimeout(this.voiceTimer);
    if (this.sipTimer) clearTimeout(this.sipTimer);
    this.d.onDone(this);
  }

  /** Stops everything at once (agent closing). */
  close(): void {
    this.finish();
  }
}
