/**
 * Starts the hot-desk line's voice service on the agent's SIP socket
 * (docs/voice.md): its defaults (docs/deployment.md "Ports"), the RTP port
 * pool, and the prompt library that follows the site's language (a directory
 * re-read that changes `voice.language` loads the other language in the
 * background; calls keep the old prompts until it is ready).
 */
import { voiceSettings } from '../../core/model.js';
import type { StoreApi } from '../../store/store-api.js';
import type { HotdeskService } from '../hotdesk-service.js';
import type { Logger } from '../logger.js';
import type { SipNotifier } from '../sync/sip-notifier.js';
import { PromptLibrary } from './prompt-library.js';
import { RtpPortPool } from './rtp-port-pool.js';
import { VoiceServer, type VoiceServerOptions } from './voice-server.js';

/** UDP ports for call audio: one even port per call (RTP, RFC 3550 §11). */
export const DEFAULT_RTP_PORTS: { readonly min: number; readonly max: number } = Object.freeze({ min: 40000, max: 40999 });

/** Hot-desk-line calls at once; more are answered 486 Busy Here. */
export const DEFAULT_CALL_LIMIT = 50;

/**
 * The prompts of the site's language, starting with `language`: `current(want)` gives the prompts
 * loaded now and, when `want` (the site's language as last read) differs, loads that language in
 * the background.
 */
export async function livePrompts(language: string, dataDir: string, log: Logger): Promise<{ current: (want: string) => PromptLibrary }> {
  let lib = await PromptLibrary.load({ language, dataDir, log });
  let loading: string | null = null;
  return {
    current: (want) => {
      if (want !== lib.language && loading !== want) {
        loading = want;
        PromptLibrary.load({ language: want, dataDir, log })
          .then((next) => {
            lib = next;
            log.info('voice prompts loaded', { language: want });
          })
          .catch((e: unknown) => log.warn('voice prompts could not be loaded', { language: want, error: (e as Error).message }))
          .finally(() => {
            loading = null;
          });
      }
      return lib;
    },
  };
}

/** Inputs of {@link startVoice}. */
export interface StartVoiceOptions {
  readonly store: StoreApi;
  readonly service: HotdeskService;
  /** The agent's SIP socket (its requests are handed to the voice server). */
  readonly sip: SipNotifier;
  /** Bind address of the RTP sockets. */
  readonly host: string;
  readonly dataDir: string;
  readonly log: Logger;
  readonly rtpPorts?: { readonly min: number; readonly max: number };
  readonly callLimit?: number;
  readonly sipTimers?: VoiceServerOptions['sipTimers'];
  readonly dialogTiming?: VoiceServerOptions['dialogTiming'];
}

/** The running voice service. */
export interface RunningVoice {
  readonly server: VoiceServer;
  readonly rtpPorts: { readonly min: number; readonly max: number };
  readonly callLimit: number;
  close(): void;
}

/** Loads the prompts, starts the voice server and attaches it to the SIP socket. */
export async function startVoice(o: StartVoiceOptions): Promise<RunningVoice> {
  const rtpPorts = o.rtpPorts ?? DEFAULT_RTP_PORTS;
  const callLimit = o.callLimit ?? DEFAULT_CALL_LIMIT;
  const site = await o.store.getSite();
  const prompts = await livePrompts(voiceSettings(site).language, o.dataDir, o.log);
  const server = new VoiceServer(
    {
      store: o.store,
      service: o.service,
      sip: o.sip,
      prompts: prompts.current,
      rtpPool: new RtpPortPool({ address: o.host, min: rtpPorts.min, max: rtpPorts.max }),
      callLimit,
      log: o.log,
      ...(o.sipTimers ? { sipTimers: o.sipTimers } : {}),
      ...(o.dialogTiming ? { dialogTiming: o.dialogTiming } : {}),
    },
    site,
  );
  o.sip.setRequestHandler((parsed, raw, from) => server.handle(parsed, raw, from));
  return {
    server,
    rtpPorts,
    callLimit,
    close: () => {
      o.sip.setRequestHandler(null);
      server.close();
    },
  };
}
