/**
 * The pipeline's render step (docs/behaviour.md §10, step 6): a phone file is rendered from the phone's
 * current state, on the worker pool when there is one, once per cache key whoever asks meanwhile, and
 * kept in the render cache (render-cache.ts, shared chunks). Render-ahead (render-ahead.ts) renders
 * through the same door, so a fetch arriving while its file is being rendered ahead waits for that
 * render instead of starting another.
 */
import type { Phone, SiteSettings } from '../../core/model.js';
import type { StoreData } from '../../store/store-api.js';
import type { PhoneFile, RenderInput, VendorDriver } from '../../vendors/driver.js';
import type { FirmwareProfile } from '../../vendors/firmware-profile.js';
import { type EncodedFile, encodeFile } from './chunk-pool.js';
import type { UrlBuilder } from './common-files.js';
import { hotdeskLineInput, type SipAdvertised } from './hotdesk-line-input.js';
import { type CachedFile, DEFAULT_RENDER_CACHE_BYTES, RenderCache } from './render-cache.js';
import type { AsyncRenderer } from './render-pool.js';

/** The per-phone runtime facts the pipeline reads. */
export interface PhoneRuntimeView {
  readonly revision: number;
  readonly provUsername: string;
  readonly provPassword: string;
  readonly ownCredentialUsed: boolean;
  readonly screenToken: string;
}

/** What rendering reads from the store. */
export type RenderStore = Pick<StoreData, 'getSite' | 'getPhone' | 'provisioningRuntime' | 'sessionOf' | 'getUser' | 'identityKeysFor' | 'getHotdeskLine'>;

/** What {@link CachedRenderer} needs (a slice of the pipeline's options). */
export interface CachedRendererOptions {
  readonly store: RenderStore;
  readonly drivers: readonly VendorDriver[];
  readonly profiles: { find(vendor: Phone['vendor'], model: string): FirmwareProfile | undefined };
  readonly urls: UrlBuilder;
  readonly renderer?: AsyncRenderer;
  readonly cacheBytes?: number;
  readonly sipAdvertised?: (site: SiteSettings) => SipAdvertised | null;
}

/** A phone's state as one request (or one render-ahead) read it. */
export interface PhoneState {
  readonly site: SiteSettings;
  readonly phone: Phone;
  readonly runtime: PhoneRuntimeView;
  readonly profile: FirmwareProfile;
  /** The agent's SIP address for the hot-desk line. */
  readonly sip: SipAdvertised | null;
}

/**
 * The render-cache key of file `name` of `phone`: MAC, revision, provisioning username (an admin reset
 * of the enrolment changes the credential the files install without bumping the revision), the agent's
 * SIP address (a new base URL or SIP port changes the files without a revision bump), lower-cased name.
 * An import bumps the revision of every phone whose inputs changed; templates load at start-up.
 */
export function cacheKey(phone: Phone, runtime: PhoneRuntimeView, sip: SipAdvertised | null, name: string): string {
  return `${phone.mac}/${runtime.revision}/${runtime.provUsername}/${sip ? `${sip.host}:${sip.port}` : '-'}/${name.toLowerCase()}`;
}

const encodeRendered = (file: PhoneFile | null): EncodedFile | null => (file ? encodeFile(file) : null);

/** Renders phone files once per key and caches them. */
export class CachedRenderer {
  private readonly cache: RenderCache;
  /** Renders under way, by cache key (one render per key at a time). */
  private readonly inflight = new Map<string, Promise<CachedFile | null>>();

  constructor(private readonly o: CachedRendererOptions) {
    this.cache = new RenderCache(o.cacheBytes ?? DEFAULT_RENDER_CACHE_BYTES);
  }

  /** Bytes, entries and distinct shared chunks held by the render cache now. */
  get stats(): { readonly bytes: number; readonly entries: number; readonly chunks: number; readonly maxBytes: number } {
    return { bytes: this.cache.bytes, entries: this.cache.size, chunks: this.cache.chunks, maxBytes: this.cache.maxBytes };
  }

  /** The cached file under `key` (marked recently used), or undefined. */
  cached(key: string): CachedFile | undefined {
    return this.cache.get(key);
  }

  /**
   * Renders file `name` of the phone in `state` under cache key `key` once, whoever asks meanwhile (two
   * fetches of one file, or a fetch and render-ahead, share one render), and caches it. Null: not one of
   * the phone's files.
   */
  render(key: string, driver: VendorDriver, name: string, state: PhoneState, input?: () => Promise<RenderInput>): Promise<CachedFile | null> {
    const running = this.inflight.get(key);
    if (running) return running;
    const job = (async () => {
      const data = await (input ? input() : this.renderInput(state));
      const rendered = this.o.renderer ? await this.o.renderer.render(driver.vendor, data, name) : encodeRendered(driver.render(data, name));
      return rendered ? this.cache.set(key, rendered, { name: `${state.phone.mac}/${name.toLowerCase()}`, version: state.runtime.revision }) : null;
    })();
    this.inflight.set(key, job);
    const forget = (): void => void this.inflight.delete(key);
    job.then(forget, forget);
    return job;
  }

  /**
   * Renders the per-phone files of phone `mac` that are not cached for its current state (render-ahead.ts:
   * at start-up and after its revision changed), under the key a fetch of each looks up. Returns how many
   * it rendered; an unknown phone or model renders nothing. Names without the MAC are the vendor's common
   * files (common-files.ts, never cached).
   */
  async renderAhead(mac: string): Promise<number> {
    const { store } = this.o;
    const [site, phone, runtime] = await Promise.all([store.getSite(), store.getPhone(mac), store.provisioningRuntime(mac)]);
    if (!phone || !runtime) return 0;
    const driver = this.o.drivers.find((d) => d.vendor === phone.vendor);
    const profile = this.o.profiles.find(phone.vendor, phone.model);
    if (!driver || !profile) return 0;
    const state: PhoneState = { site, phone, runtime, profile, sip: this.o.sipAdvertised?.(site) ?? null };
    let read: Promise<RenderInput> | undefined;
    const input = (): Promise<RenderInput> => (read ??= this.renderInput(state));
    const names = driver.fileNames(await input()).filter((n) => n.toLowerCase().includes(phone.mac));
    let rendered = 0;
    for (const name of names) {
      const key = cacheKey(phone, runtime, state.sip, name);
      if (this.cache.has(key) || this.inflight.has(key)) continue;
      await this.render(key, driver, name, state, input);
      rendered++;
    }
    return rendered;
  }

  /** The render input of the phone in `state`, read from the store now (in one round). */
  private async renderInput(state: PhoneState): Promise<RenderInput> {
    const { store } = this.o;
    const { phone, runtime } = state;
    const [user, identityKeys, line] = await Promise.all([
      store.sessionOf(phone.mac).then((session) => (session ? store.getUser(session.userExt) : undefined)),
      store.identityKeysFor(phone.mac),
      store.getHotdeskLine(phone.mac),
    ]);
    return {
      site: state.site,
      phone,
      profile: state.profile,
      user: user ?? null,
      identityKeys,
      revision: runtime.revision,
      credential: { username: runtime.provUsername, password: runtime.provPassword },
      urls: this.o.urls(phone, runtime.screenToken, state.site),
      hotdeskLine: hotdeskLineInput(line, phone, state.sip),
    };
  }
}
