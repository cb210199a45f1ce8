/**
 * The agent's SIP server for the hot-desk line (docs/voice.md): registrar
 * (REGISTER with digest, RFC 3261 §10.3), call server (INVITE → a
 * {@link VoiceCall}), OPTIONS, and the emergency redirect. It shares the
 * agent's one SIP UDP port with the check-sync notifier (which hands it every
 * datagram that is not an answer to a NOTIFY).
 *
 * Rules that keep it safe on a LAN:
 * - answers go to the request's source address and port only, never to an
 *   address taken from a header (RFC 3581 behaviour, always);
 * - REGISTER and INVITE from phones are digest-authenticated with the line's
 *   own credentials; only addresses in `voice.pbxAddresses` may forward calls
 *   without (they are identified by their source address);
 * - answers to unauthenticated requests (challenges, errors, OPTIONS) are
 *   budgeted per source and overall (token buckets), transactions and calls
 *   are capped, so a flood can neither grow state nor make the agent a
 *   reflector.
 */
import type dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import { type SiteSettings, voiceSettings } from '../../core/model.js';
import { KeyedTokenBuckets } from '../../core/token-buckets.js';
import { AllowList } from '../../protocols/cidr.js';
import { addressTag } from '../../protocols/sip-dialog.js';
import { formatHost, getHeader, parseSipUri, type SipParseResult, type SipRequest, type SipResponse } from '../../protocols/sip-message.js';
import { buildSipResponse, type SipSource } from '../../protocols/sip-response-builder.js';
import type { SipTimerOverrides } from '../../protocols/sip-client-transaction.js';
import { validateRequest } from '../../protocols/sip-validate.js';
import type { StoreApi } from '../../store/store-api.js';
import type { HotdeskService } from '../hotdesk-service.js';
import type { Logger } from '../logger.js';
import { DigestAuthority } from '../provisioning/http-digest-auth.js';
import { sameHost } from '../sip/sip-transaction-driver.js';
import { identifyCaller } from './caller-identity.js';
import type { PromptLibrary } from './prompt-library.js';
import { handleRegister } from './registrar.js';
import type { RtpPortPool } from './rtp-port-pool.js';
import { ServerTransactions } from './server-transactions.js';
import { sipErrorFor } from './sip-errors.js';
import { VoiceCall } from './voice-call.js';

/** Methods the voice server takes out of a dialog. */
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER';

/** What the voice server sends through (the agent's SIP socket, see sync/sip-notifier.ts). */
export interface SipEndpoint {
  readonly port: number;
  send(wire: string, host: string, port: number): void;
  localAddress(target: string): Promise<string>;
}

/** Options of {@link VoiceServer}. */
export interface VoiceServerOptions {
  readonly store: StoreApi;
  readonly service: HotdeskService;
  readonly sip: SipEndpoint;
  /** The prompts to speak for the site's voice language (as last read; see start-voice.ts). */
  readonly prompts: (language: string) => PromptLibrary;
  readonly rtpPool: RtpPortPool;
  /** Calls at once (more get 486 Busy Here). */
  readonly callLimit: number;
  readonly log: Logger;
  readonly userAgent?: string;
  /** SIP timers of calls and transactions (tests shorten them). */
  readonly sipTimers?: SipTimerOverrides;
  /** Spoken-dialog timing (tests shorten it). */
  readonly dialogTiming?: { readonly firstDigitMs?: number; readonly interDigitMs?: number; readonly maxCallMs?: number };
}

/** Answers the request of one server transaction (sent once; later answers are refused by the machine). */
type Answer = (status: number, headers?: { name: string; value: string }[], reason?: string) => void;

/** The hot-desk line's registrar and call server. */
export class VoiceServer {
  private readonly transactions: ServerTransactions;
  private readonly calls = new Set<VoiceCall>();
  private authority: DigestAuthority | null = null;
  /** The site's voice language as last read (calls speak it; a change loads the other language). */
  private language: string;
  /** The REGISTERs being handled, by source flow: one after the other, in the order they came. */
  private readonly registering = new Map<string, Promise<void>>();
  private readonly perSource = new KeyedTokenBuckets({ capacity: 40, refillMs: 100, maxKeys: 4096 });
  private readonly overall = new KeyedTokenBuckets({ capacity: 400, refillMs: 2, maxKeys: 1 });
  private readonly ua: string;
  private pbx: { readonly cidrs: string; readonly list: AllowList | null } = { cidrs: '', list: null };
  private sweeper: NodeJS.Timeout;
  private closed = false;

  /** `site`: the site as read at start (its realm and voice language). */
  constructor(
    private readonly o: VoiceServerOptions,
    site: SiteSettings,
  ) {
    this.ua = o.userAgent ?? 'hotdesk';
    this.language = voiceSettings(site).language;
    this.digest(site);
    this.transactions = new ServerTransactions({
      send: (wire, to) => o.sip.send(wire, to.address, to.port),
      tryingHeaders: [{ name: 'Server', value: this.ua }],
      ...(o.sipTimers ? { timers: o.sipTimers } : {}),
    });
    // Bindings that lapse without a refresh become "unregistered" (audit, events).
    this.sweeper = setInterval(() => {
      this.sweep().catch((e: unknown) => this.o.log.warn('lapsed line registrations not swept', { error: (e as Error).message }));
    }, 15_000);
    this.sweeper.unref?.();
  }

  /** Calls up now. */
  get activeCalls(): number {
    let n = 0;
    for (const c of this.calls) if (c.live) n++;
    return n;
  }

  /** Handles one datagram from the SIP socket (requests, and answers to our BYEs). */
  handle(parsed: SipParseResult, _raw: Buffer, from: dgram.RemoteInfo): void {
    if (this.closed) return;
    const source: SipSource = { address: from.address, port: from.port };
    if (!parsed.ok) {
      // RFC 3261 §16.3/§8.2: a request we can read enough of gets its 400/505; garbage gets nothing.
      if (parsed.reply && this.budget(source.address))
        this.sendTo(buildSipResponse(parsed.reply.request, { status: parsed.reply.status, reason: parsed.reply.reason, source }), source);
      return;
    }
    const msg = parsed.message;
    if (msg.kind === 'response') {
      this.response(msg, source);
      return;
    }
    try {
      this.request(msg, source);
    } catch (e) {
      this.o.log.warn('sip request failed', { method: msg.method, code: isHotdeskError(e) ? e.code : 'internal', error: (e as Error).message });
    }
  }

  private response(res: SipResponse, source: SipSource): void {
    const callId = getHeader(res, 'Call-ID');
    for (const c of this.calls) if (c.callId === callId && sameSource(c.source, source)) c.response(res);
  }

  private request(req: SipRequest, source: SipSource): void {
    const rejection = validateRequest(req, { allow: ALLOW.split(', ') });
    if (rejection) {
      // Without a Via an answer cannot be matched by anyone (RFC 3261 §8.2.6): silence.
      if (req.method !== 'ACK' && getHeader(req, 'Via') !== undefined && this.budget(source.address))
        this.sendTo(buildSipResponse(req, { status: rejection.status, reason: rejection.reason, headers: rejection.headers, source, toTag: tag() }), source);
      return;
    }
    // In-dialog requests, CANCEL and ACK of a call go to that call (from the call's own flow only).
    // (A retransmitted INVITE of an answered call is the call's too: it re-sends its answer.)
    const call = [...this.calls].find((c) => c.matches(req));
    if (call) {
      if (sameSource(call.source, source)) call.request(req);
      return;
    }
    const rx = this.transactions.receive(req, source);
    if (rx.kind === 'absorbed') return;
    if (rx.kind === 'full') return; // silently dropped: the phone retransmits
    if (rx.kind === 'none') return; // an ACK that matches nothing
    const answer: Answer = (status, headers = [], reason) =>
      this.transactions.respond(
        rx.key,
        buildSipResponse(req, { status, source, toTag: tag(), headers: [...headers, { name: 'Server', value: this.ua }], ...(reason ? { reason } : {}) }),
        status,
      );
    if (hasToTag(req) || req.method === 'CANCEL') {
      answer(481, [], 'Call/Transaction Does Not Exist');
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        if (this.budget(source.address))
          answer(200, [
            { name: 'Allow', value: ALLOW },
            { name: 'Accept', value: 'application/sdp' },
          ]);
        break;
      case 'REGISTER':
        this.queueRegister(req, source, rx.key, answer);
        break;
      case 'INVITE':
        this.invite(req, source, rx.key, answer).catch((e: unknown) => this.failed(req, source, e, answer));
        break;
      case 'BYE':
      case 'INFO':
        answer(481, [], 'Call/Transaction Does Not Exist');
        break;
      default:
        answer(405, [{ name: 'Allow', value: ALLOW }]);
    }
  }

  /**
   * Handles a REGISTER after the ones of the same flow still being handled (their bindings are
   * decided in order, as they came). It is answered once: with the registrar's answer, a challenge,
   * or the error that stopped it.
   */
  private queueRegister(req: SipRequest, source: SipSource, key: string, answer: Answer): void {
    const flow = `${source.address}|${source.port}`;
    const next = (this.registering.get(flow) ?? Promise.resolve())
      .then(() => this.register(req, source, key, answer))
      .catch((e: unknown) => this.failed(req, source, e, answer));
    this.registering.set(flow, next);
    void next.finally(() => {
      if (this.registering.get(flow) === next) this.registering.delete(flow);
    });
  }

  private async register(req: SipRequest, source: SipSource, key: string, answer: Answer): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const site = await this.o.store.getSite();
    const who = await identifyCaller(req, source.address, { store: this.o.store, digest: this.digest(site), pbxAddresses: null, now });
    if (who.kind !== 'line') {
      if (this.budget(source.address)) answer(401, who.kind === 'challenge' ? who.headers.map((value) => ({ name: 'WWW-Authenticate', value })) : []);
      return;
    }
    const r = await handleRegister({ store: this.o.store, request: req, source, mac: who.mac, username: who.username, now, userAgent: this.ua, toTag: tag() });
    this.transactions.respond(key, r.response, r.status);
    if (r.change !== 'unchanged') this.o.log.info('hot-desk line registration', { phone: who.mac, change: r.change, address: source.address });
  }

  /**
   * A REGISTER or INVITE whose handling failed before it was answered (the store did not answer):
   * logged, and answered with the error's status (budgeted like any answer before authentication).
   */
  private failed(req: SipRequest, source: SipSource, e: unknown, answer: Answer): void {
    const err = isHotdeskError(e) ? e : new HotdeskError('internal', String((e as Error | undefined)?.message ?? e));
    this.o.log.warn('sip request failed', { method: req.method, code: err.code, error: err.message });
    if (this.closed || !this.budget(source.address)) return;
    const r = sipErrorFor(err);
    try {
      answer(r.status, r.headers);
    } catch (x) {
      this.o.log.warn('sip error answer failed', { method: req.method, error: String(x) });
    }
  }

  private async invite(req: SipRequest, source: SipSource, key: string, answer: Answer): Promise<void> {
    const site = await this.o.store.getSite();
    const voice = voiceSettings(site);
    this.language = voice.language;
    const now = Date.now();
    const dialled = parseSipUri(req.uri)?.user ?? '';
    // Emergency numbers are never answered with a prompt, and never wait for a challenge round
    // trip: the PBX takes them at once (docs/voice.md "Emergency numbers").
    if (voice.emergencyNumbers.includes(dialled)) {
      if (!this.budget(source.address)) return;
      const t = site.pbx.transport === 'udp' ? '' : `;transport=${site.pbx.transport}`;
      this.o.log.warn('emergency number dialled on the hot-desk line: redirected to the PBX', { number: dialled, address: source.address });
      answer(302, [{ name: 'Contact', value: `<sip:${dialled}@${formatHost(site.pbx.host)}:${site.pbx.port}${t}>` }], 'Moved Temporarily');
      return;
    }
    const who = await identifyCaller(req, source.address, {
      store: this.o.store,
      digest: this.digest(site),
      pbxAddresses: this.pbxList(voice.pbxAddresses),
      now,
    });
    if (who.kind === 'challenge') {
      if (this.budget(source.address))
        answer(
          401,
          who.headers.map((value) => ({ name: 'WWW-Authenticate', value })),
        );
      return;
    }
    if (who.kind === 'unknown-caller') {
      answer(404, [], 'Caller Is Not A Known Phone');
      return;
    }
    if (this.activeCalls >= this.o.callLimit) {
      answer(486, [{ name: 'Retry-After', value: '10' }], 'Busy Here');
      return;
    }
    try {
      const local = { host: await this.o.sip.localAddress(source.address), port: this.o.sip.port };
      const call = await VoiceCall.answer(
        {
          send: (wire, to) => this.sendTo(wire, to),
          answerInvite: (wire, status) => this.transactions.respond(key, wire, status),
          prompts: () => this.o.prompts(this.language),
          rtpPool: this.o.rtpPool,
          dial: (mac, digits) => this.o.service.dial(mac, digits),
          hasUser: async (mac) => (await this.o.store.sessionOf(mac)) !== undefined,
          prefix: site.featurePrefix,
          local,
          userAgent: this.ua,
          log: this.o.log,
          onDone: (c) => this.calls.delete(c),
          ...(this.o.sipTimers ? { sipTimers: this.o.sipTimers } : {}),
          ...(this.o.dialogTiming ? { dialogTiming: this.o.dialogTiming } : {}),
        },
        req,
        source,
        who.mac,
        dialled,
      );
      if (this.closed) {
        call.close();
        return;
      }
      this.calls.add(call);
      this.o.log.info('voice call answered', { phone: who.mac, via: who.kind });
    } catch (e) {
      const err = isHotdeskError(e) ? e : new HotdeskError('internal', (e as Error).message);
      if (err.code !== 'busy') this.o.log.warn('voice call could not be answered', { phone: who.mac, code: err.code, error: err.message });
      const r = sipErrorFor(err);
      answer(r.status, r.headers);
    }
  }

  /** The digest authority of the site's current realm (a directory re-read may change `voice.realm`). */
  private digest(site: SiteSettings): DigestAuthority {
    const realm = voiceSettings(site).realm;
    if (this.authority === null || realm !== this.authority.realm) this.authority = new DigestAuthority(realm);
    return this.authority;
  }

  private pbxList(cidrs: readonly string[]): AllowList | null {
    const k = cidrs.join(',');
    if (k !== this.pbx.cidrs) this.pbx = { cidrs: k, list: cidrs.length > 0 ? new AllowList(cidrs) : null };
    return this.pbx.list;
  }

  /** True when an answer to an unauthenticated request may go to `address` now. */
  private budget(address: string): boolean {
    const now = Date.now();
    return this.perSource.take(address, now) && this.overall.take('*', now);
  }

  private sendTo(wire: string, to: SipSource): void {
    this.o.sip.send(wire, to.address, to.port);
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    const lapsed = (await this.o.store.listLineRegistrations()).filter((e) => e.registration !== null && e.registration.expiresAt <= now);
    await Promise.all(lapsed.map((e) => this.o.store.setLineRegistration(e.mac, null, now)));
  }

  /** Hangs up every call and stops. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const c of [...this.calls]) {
      c.hangup();
      c.close();
    }
    this.calls.clear();
    this.transactions.close();
  }
}

const tag = (): string => randomBytes(6).toString('hex');

function hasToTag(req: SipRequest): boolean {
  return addressTag(getHeader(req, 'To')) !== '';
}

/** Same address (IPv4-mapped forms equal, see sip-transaction-driver.ts) and port. */
function sameSource(a: SipSource, b: SipSource): boolean {
  return sameHost(a.address, b.address) && a.port === b.port;
}
