/**
 * The one identification pipeline shared by HTTP and TFTP (docs/behaviour.md §10):
 * sanitise the path -> identify vendor/model/firmware/MAC from path and
 * User-Agent -> find the phone (enrol an unknown one only once it authenticated
 * with the bootstrap credential) -> choose its driver -> authorise (secrets
 * only to their own phone, decided from the name before anything is rendered)
 * -> render from the current state (cached by revision, bounded in bytes) ->
 * record the fetch (an authenticated fetch of the secret file sets the phone's
 * NOTIFY address and confirms sync; any other fetch is only a sighting).
 *
 * Every refusal is a HotdeskError with a catalog code; the protocol shells map
 * codes to answers. Nothing here logs or returns a secret except the file body
 * to its own authenticated phone.
 */
import { HotdeskError } from '../../core/errors.js';
import { PROVISIONING_FILE_NAME, requireFileName } from '../../protocols/file-name.js';
import type { AuditEvent, Phone, SiteSettings, Vendor } from '../../core/model.js';
import type { StoreData } from '../../store/store-api.js';
import type { Credential, Identification, VendorDriver } from '../../vendors/driver.js';
import type { FirmwareProfile } from '../../vendors/firmware-profile.js';
import { AllowList } from '../../protocols/cidr.js';
import { FailureLimiter } from '../http/rate-limiter.js';
import { serveCommonFile, type UrlBuilder } from './common-files.js';
import { type ServedFile, servedFile } from './served-file.js';
import type { AsyncRenderer } from './render-pool.js';
import { type CachedFile, cachedBody, DEFAULT_RENDER_CACHE_BYTES } from './render-cache.js';
import type { SipAdvertised } from './hotdesk-line-input.js';
import { CachedRenderer, cacheKey, type PhoneRuntimeView } from './cached-renderer.js';

export type { PhoneRuntimeView } from './cached-renderer.js';

/**
 * What the pipeline needs from the store (a slice of the async contract). A request reads the site,
 * then the phone with its runtime, then (on a cache miss) its render input, each step in one round.
 */
export type PipelineStore = Pick<
  StoreData,
  | 'getSite'
  | 'getPhone'
  | 'getUser'
  | 'sessionOf'
  | 'provisioningRuntime'
  | 'identityKeysFor'
  | 'getHotdeskLine'
  | 'enrolPhone'
  | 'recordServed'
  | 'recordSighting'
  | 'markOwnCredentialUsed'
  | 'appendAudit'
>;

/** Firmware profiles lookup (a `FirmwareProfiles`). */
export interface ProfileLookup {
  find(vendor: Vendor, model: string): FirmwareProfile | undefined;
}

/** How a requester proved who it is, as checked by the protocol shell. */
export type AuthCheck = (accepted: readonly AcceptedCredential[]) => AuthVerdict;
export interface AcceptedCredential extends Credential {
  readonly kind: 'own' | 'bootstrap';
}
export type AuthVerdict = { readonly status: 'ok'; readonly kind: 'own' | 'bootstrap' } | { readonly status: 'missing' | 'bad' | 'stale' };

/** One file request, protocol-neutral. */
export interface FileRequest {
  readonly protocol: 'http' | 'tftp';
  /** File name as requested (HTTP: URL path without query, still percent-encoded; TFTP: the filename). */
  readonly path: string;
  readonly userAgent?: string;
  readonly remoteAddress: string;
  /** HTTP only: checks credentials presented with the request. */
  readonly authenticate?: AuthCheck;
}

export type { ServedFile } from './served-file.js';

/** The stale-nonce variant of auth-required (the shell adds `stale=true`). */
export const STALE = 'stale';

export interface PipelineOptions {
  readonly store: PipelineStore;
  readonly drivers: readonly VendorDriver[];
  readonly profiles: ProfileLookup;
  /** The URLs a phone's files carry (given the site read for the request). */
  readonly urls: UrlBuilder;
  readonly clock: () => number;
  readonly limiter?: FailureLimiter;
  /** Render-cache budget in bytes (default {@link DEFAULT_RENDER_CACHE_BYTES}). */
  readonly cacheBytes?: number;
  /** Renders cache misses off the main thread (a RenderPool); absent: in this thread. */
  readonly renderer?: AsyncRenderer;
  /**
   * Where phones register their hot-desk line: the host of the provisioning
   * base URL and the agent's bound SIP port (asked at each request, with the
   * site read for it). Absent or null: files carry no hot-desk line.
   */
  readonly sipAdvertised?: (site: SiteSettings) => SipAdvertised | null;
}

/** What {@link ProvisioningPipeline} knows about a request once the phone is identified. */
interface ServeContext {
  readonly now: number;
  readonly site: SiteSettings;
  readonly name: string;
  readonly id: Identification;
  readonly driver: VendorDriver;
  readonly phone: Phone;
  readonly runtime: PhoneRuntimeView;
  readonly profile: FirmwareProfile;
  /** Render-cache key ({@link cacheKey}: what the file depends on beyond its revision is in it). */
  readonly key: string;
  /** The agent's SIP address for the hot-desk line, read once per request. */
  readonly sip: SipAdvertised | null;
  /** The cached file, when there is one. */
  readonly hit?: CachedFile;
  /** How the requester proved it is this phone, when it did (before rendering). */
  readonly authorised?: 'own' | 'bootstrap' | 'tftp';
}

/**
 * A requested provisioning path as a bare file name (protocols/file-name.ts,
 * {@link PROVISIONING_FILE_NAME}): traversal in any spelling is
 * `path-traversal`, a nested or odd name `unknown-file`, a malformed encoding
 * or over-long path `bad-request`. `percentEncoded`: an HTTP path.
 */
export function sanitizeFileName(raw: string, percentEncoded: boolean): string {
  return requireFileName(raw, { ...PROVISIONING_FILE_NAME, percentEncoded });
}

/**
 * True when `file` holds the phone's screen token (action-URL and XML-browser URLs carry it). The
 * answer is kept on the cached file for the token it was asked with.
 */
function carriesToken(file: CachedFile, token: string): boolean {
  if (token.length < 8) return false;
  if (file.tokenCheck?.token === token) return file.tokenCheck.found;
  const found = cachedBody(file).includes(token);
  file.tokenCheck = { token, found };
  return found;
}

/** Chooses among several drivers' identifications of one request. */
function pickIdentification(ids: Identification[], knownVendor: (mac: string) => Vendor | undefined): Identification | null {
  if (ids.length === 0) return null;
  for (const id of ids) {
    if (id.mac && knownVendor(id.mac) === id.vendor) return id;
  }
  const score = (id: Identification): number => (id.model ? 2 : 0) + (id.macFromUserAgent ? 1 : 0) + (id.firmware ? 1 : 0);
  return [...ids].sort((a, b) => score(b) - score(a))[0] ?? null;
}

/** The provisioning pipeline (one instance per agent). */
export class ProvisioningPipeline {
  private readonly limiter: FailureLimiter;
  private readonly files: CachedRenderer;
  private allow: { cidrs: string; list: AllowList } | null = null;

  constructor(private readonly o: PipelineOptions) {
    this.limiter = o.limiter ?? new FailureLimiter();
    this.files = new CachedRenderer(o);
  }

  /** Bytes, entries and distinct shared chunks held by the render cache now. */
  get cacheStats(): { readonly bytes: number; readonly entries: number; readonly chunks: number; readonly maxBytes: number } {
    return this.files.stats;
  }

  /** Renders ahead the per-phone files of phone `mac` that are not cached (see {@link CachedRenderer.renderAhead}). */
  renderAhead(mac: string): Promise<number> {
    return this.files.renderAhead(mac);
  }

  private allowList(site: SiteSettings): AllowList {
    const key = site.provisioning.allowedNetworks.join(',');
    if (!this.allow || this.allow.cidrs !== key) this.allow = { cidrs: key, list: new AllowList(site.provisioning.allowedNetworks) };
    return this.allow.list;
  }

  private fail(source: string, now: number, err: HotdeskError): never {
    this.limiter.fail(source, now);
    throw err;
  }

  /** True when cache misses render on a worker pool (the main thread keeps serving meanwhile). */
  get rendersOffThread(): boolean {
    return this.o.renderer !== undefined;
  }

  /**
   * Serves one request or rejects with a coded HotdeskError. A cache miss
   * renders on the configured worker pool (in this thread when none is
   * configured); the cache stays here.
   */
  async serve(req: FileRequest): Promise<ServedFile> {
    const ctx = await this.prepare(req);
    if (!('key' in ctx)) return ctx;
    if (ctx.hit !== undefined) return this.finish(req, ctx, ctx.hit);
    return this.finish(req, ctx, await this.files.render(ctx.key, ctx.driver, ctx.name, ctx));
  }

  /** Everything before rendering: source checks, name, identification, phone (auto-enrol), cache lookup. */
  private async prepare(req: FileRequest): Promise<ServeContext | ServedFile> {
    const now = this.o.clock();
    const { store } = this.o;
    const site = await store.getSite();
    if (!this.allowList(site).allows(req.remoteAddress)) throw new HotdeskError('forbidden-source', 'source address not allowed');
    if (this.limiter.blocked(req.remoteAddress, now)) throw new HotdeskError('rate-limited', 'too many failures from this address');

    const name = sanitizeFileName(req.path, req.protocol === 'http');
    const ids: Identification[] = [];
    for (const d of this.o.drivers) {
      const id = d.identify(name, req.userAgent);
      if (id) ids.push(id);
    }
    const found = await this.lookup(ids);
    const id = pickIdentification(ids, (mac) => found.get(mac)?.phone?.vendor);
    if (!id) this.fail(req.remoteAddress, now, new HotdeskError('unknown-file', 'not a provisioning file name'));
    if (id.macFromPath && id.macFromUserAgent && id.macFromPath !== id.macFromUserAgent) {
      this.fail(req.remoteAddress, now, new HotdeskError('mac-mismatch', 'MAC in path disagrees with MAC in User-Agent'));
    }
    const driver = this.o.drivers.find((d) => d.vendor === id.vendor);
    if (!driver) throw new HotdeskError('unknown-file');
    // No MAC at all (a generic name such as `y000000000000.boot` over TFTP): a vendor common file is served without
    // enrolling or recording anything (common-files.ts); anything else was not guessed, so it does not count.
    if (!id.mac) return serveCommonFile({ driver, name, id, site, urls: this.o.urls });
    const mac = id.mac;

    const known = found.get(mac)?.phone;
    const enrolled = known ? null : await this.enrolOnFirstContact(req, id, driver, name, site, now);
    const phone = known ?? enrolled?.phone;
    if (!phone) throw new HotdeskError('unknown-phone', 'unknown phone');
    if (phone.vendor !== id.vendor) this.fail(req.remoteAddress, now, new HotdeskError('unknown-file', 'file does not belong to this phone'));
    const runtime = enrolled ? await store.provisioningRuntime(mac) : found.get(mac)?.runtime;
    const profile = this.o.profiles.find(phone.vendor, phone.model);
    if (!runtime || !profile) throw new HotdeskError('unknown-model', `no firmware profile for ${phone.vendor} ${phone.model}`);
    // Secrets are decided from the name: the requester proves it is this phone before anything is rendered.
    const authorised = enrolled ? 'bootstrap' : driver.isSecretFile(name) ? await this.authorise(req, mac, runtime, site, now) : undefined;
    const sip = this.o.sipAdvertised?.(site) ?? null;
    const key = cacheKey(phone, runtime, sip, name);
    const hit = this.files.cached(key);
    return { now, site, name, id, driver, phone, runtime, profile, key, sip, ...(hit !== undefined ? { hit } : {}), ...(authorised ? { authorised } : {}) };
  }

  /** Every phone the identifications name (usually one MAC) with its runtime, read in one round. */
  private async lookup(ids: readonly Identification[]): Promise<Map<string, { readonly phone?: Phone; readonly runtime?: PhoneRuntimeView }>> {
    const found = new Map<string, { readonly phone?: Phone; readonly runtime?: PhoneRuntimeView }>();
    const macs = [...new Set(ids.flatMap((i) => (i.mac ? [i.mac] : [])))];
    if (macs.length === 0) return found;
    const { store } = this.o;
    const rows = await Promise.all(macs.map((mac) => Promise.all([store.getPhone(mac), store.provisioningRuntime(mac)])));
    macs.forEach((mac, i) => {
      const [phone, runtime] = rows[i] ?? [];
      found.set(mac, { ...(phone ? { phone } : {}), ...(runtime ? { runtime } : {}) });
    });
    return found;
  }

  /**
   * An unknown MAC asks for a file. It is enrolled only when it asks for its own
   * secret file over HTTP authenticated with the site's bootstrap credential
   * (and the site has `autoEnrol`, the model is profiled). Everything else is
   * refused as `unknown-phone` and counts towards the source's failure limit;
   * with `anonymousEnrolment` it is also recorded as a quarantined sighting an
   * admin may accept. Nothing is rendered, cached or enrolled before that proof.
   */
  private async enrolOnFirstContact(
    req: FileRequest,
    id: Identification,
    driver: VendorDriver,
    name: string,
    site: SiteSettings,
    now: number,
  ): Promise<{ phone: Phone }> {
    const { store } = this.o;
    const mac = id.mac ?? '';
    const profile = id.model ? this.o.profiles.find(id.vendor, id.model) : undefined;
    if (site.provisioning.autoEnrol && id.model && profile && driver.isSecretFile(name) && req.protocol === 'http' && req.authenticate) {
      // Each probe counts, answered or not: a source cannot enrol (or try to) at will.
      this.limiter.fail(req.remoteAddress, now);
      const verdict = req.authenticate([{ kind: 'bootstrap', ...site.provisioning.bootstrap }]);
      if (verdict.status === 'ok') return { phone: await store.enrolPhone({ mac, vendor: id.vendor, model: id.model }, now) };
      if (site.provisioning.anonymousEnrolment)
        await store.recordSighting({ mac, ip: req.remoteAddress, vendor: id.vendor, model: id.model, at: now, via: 'http' });
      if (verdict.status === 'missing') throw new HotdeskError('auth-required');
      if (verdict.status === 'stale') throw new HotdeskError('auth-required', 'nonce expired', { stale: true });
      this.fail(req.remoteAddress, now, new HotdeskError('auth-failed', 'credentials refused for this phone'));
    }
    if (site.provisioning.anonymousEnrolment && id.model && profile) {
      await store.recordSighting({ mac, ip: req.remoteAddress, vendor: id.vendor, model: id.model, at: now, via: req.protocol });
    }
    this.fail(req.remoteAddress, now, new HotdeskError('unknown-phone', 'unknown phone'));
  }

  /** Everything after rendering: refusal of unknown names, authorisation (secrets only), fetch record, audit. */
  private async finish(req: FileRequest, ctx: ServeContext, rendered: CachedFile | null): Promise<ServedFile> {
    const { store } = this.o;
    const { now, site, id, phone, runtime } = ctx;
    const mac = phone.mac;
    // A known phone asking for one of its vendor's names that we do not render (Poly `<mac>-directory.xml`,
    // `<mac>-calls.xml` at every boot): a plain 404 that does not count towards the failure limit.
    if (!rendered) throw new HotdeskError('unknown-file', 'not one of this phone\u2019s files');
    // Safety net: a file carrying the phone's screen/action-URL token is a per-phone credential too.
    const file = rendered.meta.secret || !carriesToken(rendered, runtime.screenToken) ? rendered.meta : { ...rendered.meta, secret: true };
    const authorised = ctx.authorised ?? (file.secret ? await this.authorise(req, mac, runtime, site, now) : undefined);

    const fetch = {
      ip: req.remoteAddress,
      ...(req.userAgent !== undefined ? { userAgent: req.userAgent } : {}),
      ...(id.firmware !== undefined ? { firmware: id.firmware } : {}),
      file: file.name,
      ...(file.carriesRevision ? { revision: runtime.revision } : {}),
      // Only a proven fetch of the phone's own secret file may move where NOTIFYs go.
      authenticated: authorised !== undefined && file.secret,
      now,
    };
    const audit: AuditEvent | undefined = file.secret
      ? { kind: 'secret-served', at: now, phone: mac, detail: { ip: req.remoteAddress, file: file.name, revision: runtime.revision, protocol: req.protocol } }
      : undefined;
    const rec = await store.recordServed(mac, fetch, audit);
    const parts = rendered.chunks.map((c) => c.bytes);
    const syncConfirmed = rec.confirmed ? { elapsedMs: rec.elapsedMs ?? 0 } : undefined;
    return servedFile({ file, parts, length: rendered.length, mac, vendor: phone.vendor, ...(syncConfirmed ? { syncConfirmed } : {}) });
  }

  /** Checks that the requester may receive this phone's secrets; returns how it proved it, or throws. */
  private async authorise(req: FileRequest, mac: string, runtime: PhoneRuntimeView, site: SiteSettings, now: number): Promise<'own' | 'bootstrap' | 'tftp'> {
    if (req.protocol === 'tftp') {
      // TFTP has no authentication: a site that allows secrets over it trusts any TFTP requester with them.
      if (!site.provisioning.allowTftpSecrets) throw new HotdeskError('secret-over-tftp', 'this file is not served over TFTP');
      return 'tftp';
    }
    if (!req.authenticate) throw new HotdeskError('auth-required');
    const accepted: AcceptedCredential[] = [{ kind: 'own', username: runtime.provUsername, password: runtime.provPassword }];
    if (!runtime.ownCredentialUsed) accepted.push({ kind: 'bootstrap', ...site.provisioning.bootstrap });
    const verdict = req.authenticate(accepted);
    switch (verdict.status) {
      case 'ok':
        if (verdict.kind === 'own' && !runtime.ownCredentialUsed) await this.o.store.markOwnCredentialUsed(mac);
        return verdict.kind;
      case 'missing':
        throw new HotdeskError('auth-required');
      case 'stale':
        throw new HotdeskError('auth-required', 'nonce expired', { stale: true });
      case 'bad':
        await this.o.store.appendAudit({ kind: 'auth-failure', at: now, phone: mac, detail: { ip: req.remoteAddress } });
        this.fail(req.remoteAddress, now, new HotdeskError('auth-failed', 'credentials refused for this phone'));
    }
  }
}
