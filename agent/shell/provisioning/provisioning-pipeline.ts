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
import type { AuditEvent, Phone, Session, SiteSettings, User, Vendor } from '../../core/model.js';
import type { AgentUrls, Credential, Identification, IdentityKey, PhoneFile, RenderInput, VendorDriver } from '../../vendors/driver.js';
import type { FirmwareProfile } from '../../vendors/firmware-profile.js';
import { AllowList } from '../../protocols/cidr.js';
import { FailureLimiter } from '../http/rate-limiter.js';
import { serveCommonFile } from './common-files.js';
import type { ServedFile } from './served-file.js';
import type { AsyncRenderer } from './render-pool.js';
import { DEFAULT_RENDER_CACHE_BYTES, RenderCache } from './render-cache.js';
import { hotdeskLineInput, type SipAdvertised } from './hotdesk-line-input.js';

/** What the pipeline needs from the store (a subset of `Store`). */
export interface PipelineStore {
  getSite(): SiteSettings;
  getPhone(mac: string): Phone | undefined;
  getUser(ext: string): User | undefined;
  sessionOf(mac: string): Session | undefined;
  /** Revision, credential and screen token of a phone (the store keeps them in memory). */
  provisioningRuntime(mac: string): PhoneRuntimeView | undefined;
  identityKeysFor(mac: string): readonly IdentityKey[];
  /** The phone's hot-desk line (credentials for its own secret file). */
  getHotdeskLine(mac: string): { readonly username: string; readonly password: string } | undefined;
  enrolPhone(p: { mac: string; vendor: Vendor; model: string }, now: number): Phone;
  /**
   * Records a served file: the fetch and, for a file holding secrets, its audit entry (the store
   * may write both behind, never reporting either before they are committed).
   */
  recordServed(
    mac: string,
    f: { ip: string; userAgent?: string; firmware?: string; file: string; revision?: number; authenticated?: boolean; now: number },
    audit?: AuditEvent,
  ): { confirmed: boolean; elapsedMs?: number };
  /** Quarantined sighting of an unknown phone (capped per source and in total by the store). */
  recordSighting(s: { mac: string; ip: string; vendor?: string; model?: string; at: number; via?: 'pnp' | 'http' | 'tftp' }): 'new' | 'repeat' | 'capped';
  markOwnCredentialUsed(mac: string): void;
  appendAudit(e: AuditEvent): void;
}

/** The per-phone runtime facts the pipeline reads. */
export interface PhoneRuntimeView {
  readonly revision: number;
  readonly provUsername: string;
  readonly provPassword: string;
  readonly ownCredentialUsed: boolean;
  readonly screenToken: string;
}

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
  readonly urls: (phone: Phone, screenToken: string) => AgentUrls;
  readonly clock: () => number;
  readonly limiter?: FailureLimiter;
  /** Render-cache budget in bytes (default {@link DEFAULT_RENDER_CACHE_BYTES}). */
  readonly cacheBytes?: number;
  /** Renders cache misses off the main thread in {@link ProvisioningPipeline.serveAsync} (a RenderPool). */
  readonly renderer?: AsyncRenderer;
  /**
   * Where phones register their hot-desk line: the host of the provisioning
   * base URL and the agent's bound SIP port (read at each request). Absent or
   * null: files carry no hot-desk line.
   */
  readonly sipAdvertised?: () => SipAdvertised | null;
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
  /**
   * Render-cache key (MAC, revision, provisioning username, the agent's SIP address, lower-cased name;
   * an import bumps the revision of every phone whose inputs changed, templates load at start-up).
   */
  readonly key: string;
  /** The agent's SIP address for the hot-desk line, read once per request. */
  readonly sip: SipAdvertised | null;
  /** The cached file, when there is one. */
  readonly hit?: PhoneFile;
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

/** True when `body` holds the phone's screen token (action-URL and XML-browser URLs carry it). */
function carriesToken(body: string, token: string): boolean {
  return token.length >= 8 && body.includes(token);
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
  private readonly cache: RenderCache;
  private allow: { cidrs: string; list: AllowList } | null = null;

  constructor(private readonly o: PipelineOptions) {
    this.limiter = o.limiter ?? new FailureLimiter();
    this.cache = new RenderCache(o.cacheBytes ?? DEFAULT_RENDER_CACHE_BYTES);
  }

  /** Bytes and entries held by the render cache now. */
  get cacheStats(): { readonly bytes: number; readonly entries: number; readonly maxBytes: number } {
    return { bytes: this.cache.bytes, entries: this.cache.size, maxBytes: this.cache.maxBytes };
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

  /** True when cache misses render on a worker pool ({@link serveAsync} then keeps the main thread free). */
  get rendersOffThread(): boolean {
    return this.o.renderer !== undefined;
  }

  /** Serves one request or throws a coded HotdeskError (renders in this thread). */
  serve(req: FileRequest): ServedFile {
    const ctx = this.prepare(req);
    if (!('key' in ctx)) return ctx;
    return this.finish(req, ctx, ctx.hit !== undefined ? ctx.hit : this.remember(ctx.key, ctx.driver.render(this.renderInput(ctx), ctx.name)));
  }

  /**
   * Same as {@link serve}, but a cache miss renders on the configured worker
   * pool (in this thread when none is configured). The cache stays here.
   */
  async serveAsync(req: FileRequest): Promise<ServedFile> {
    const ctx = this.prepare(req);
    if (!('key' in ctx)) return ctx;
    if (ctx.hit !== undefined) return this.finish(req, ctx, ctx.hit);
    const input = this.renderInput(ctx);
    const rendered = this.o.renderer ? await this.o.renderer.render(ctx.driver.vendor, input, ctx.name) : ctx.driver.render(input, ctx.name);
    return this.finish(req, ctx, this.remember(ctx.key, rendered));
  }

  /** Everything before rendering: source checks, name, identification, phone (auto-enrol), cache lookup. */
  private prepare(req: FileRequest): ServeContext | ServedFile {
    const now = this.o.clock();
    const { store } = this.o;
    const site = store.getSite();
    if (!this.allowList(site).allows(req.remoteAddress)) throw new HotdeskError('forbidden-source', 'source address not allowed');
    if (this.limiter.blocked(req.remoteAddress, now)) throw new HotdeskError('rate-limited', 'too many failures from this address');

    const name = sanitizeFileName(req.path, req.protocol === 'http');
    const ids: Identification[] = [];
    for (const d of this.o.drivers) {
      const id = d.identify(name, req.userAgent);
      if (id) ids.push(id);
    }
    const id = pickIdentification(ids, (mac) => store.getPhone(mac)?.vendor);
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

    const known = store.getPhone(mac);
    const enrolled = known ? null : this.enrolOnFirstContact(req, id, driver, name, site, now);
    const phone = known ?? enrolled?.phone;
    if (!phone) throw new HotdeskError('unknown-phone', 'unknown phone');
    if (phone.vendor !== id.vendor) this.fail(req.remoteAddress, now, new HotdeskError('unknown-file', 'file does not belong to this phone'));
    const runtime = store.provisioningRuntime(mac);
    const profile = this.o.profiles.find(phone.vendor, phone.model);
    if (!runtime || !profile) throw new HotdeskError('unknown-model', `no firmware profile for ${phone.vendor} ${phone.model}`);
    // Secrets are decided from the name: the requester proves it is this phone before anything is rendered.
    const authorised = enrolled ? 'bootstrap' : driver.isSecretFile(name) ? this.authorise(req, mac, runtime, site, now) : undefined;
    // The provisioning username is in the key: an admin reset of the enrolment changes the credential
    // the files install without bumping the revision.
    // So is the agent's SIP address: the hot-desk line registers there, and a new base URL or SIP port
    // changes the files without a revision bump.
    const sip = this.o.sipAdvertised?.() ?? null;
    const key = `${phone.mac}/${runtime.revision}/${runtime.provUsername}/${sip ? `${sip.host}:${sip.port}` : '-'}/${name.toLowerCase()}`;
    const hit = this.cache.get(key);
    return { now, site, name, id, driver, phone, runtime, profile, key, sip, ...(hit !== undefined ? { hit } : {}), ...(authorised ? { authorised } : {}) };
  }

  /**
   * An unknown MAC asks for a file. It is enrolled only when it asks for its own
   * secret file over HTTP authenticated with the site's bootstrap credential
   * (and the site has `autoEnrol`, the model is profiled). Everything else is
   * refused as `unknown-phone` and counts towards the source's failure limit;
   * with `anonymousEnrolment` it is also recorded as a quarantined sighting an
   * admin may accept. Nothing is rendered, cached or enrolled before that proof.
   */
  private enrolOnFirstContact(req: FileRequest, id: Identification, driver: VendorDriver, name: string, site: SiteSettings, now: number): { phone: Phone } {
    const { store } = this.o;
    const mac = id.mac ?? '';
    const profile = id.model ? this.o.profiles.find(id.vendor, id.model) : undefined;
    if (site.provisioning.autoEnrol && id.model && profile && driver.isSecretFile(name) && req.protocol === 'http' && req.authenticate) {
      // Each probe counts, answered or not: a source cannot enrol (or try to) at will.
      this.limiter.fail(req.remoteAddress, now);
      const verdict = req.authenticate([{ kind: 'bootstrap', ...site.provisioning.bootstrap }]);
      if (verdict.status === 'ok') return { phone: store.enrolPhone({ mac, vendor: id.vendor, model: id.model }, now) };
      if (site.provisioning.anonymousEnrolment) store.recordSighting({ mac, ip: req.remoteAddress, vendor: id.vendor, model: id.model, at: now, via: 'http' });
      if (verdict.status === 'missing') throw new HotdeskError('auth-required');
      if (verdict.status === 'stale') throw new HotdeskError('auth-required', 'nonce expired', { stale: true });
      this.fail(req.remoteAddress, now, new HotdeskError('auth-failed', 'credentials refused for this phone'));
    }
    if (site.provisioning.anonymousEnrolment && id.model && profile) {
      store.recordSighting({ mac, ip: req.remoteAddress, vendor: id.vendor, model: id.model, at: now, via: req.protocol });
    }
    this.fail(req.remoteAddress, now, new HotdeskError('unknown-phone', 'unknown phone'));
  }

  /** Everything after rendering: refusal of unknown names, authorisation (secrets only), fetch record, audit. */
  private finish(req: FileRequest, ctx: ServeContext, rendered: PhoneFile | null): ServedFile {
    const { store } = this.o;
    const { now, site, id, phone, runtime } = ctx;
    const mac = phone.mac;
    // A known phone asking for one of its vendor's names that we do not render (Poly `<mac>-directory.xml`,
    // `<mac>-calls.xml` at every boot): a plain 404 that does not count towards the failure limit.
    if (!rendered) throw new HotdeskError('unknown-file', 'not one of this phone\u2019s files');
    // Safety net: a file carrying the phone's screen/action-URL token is a per-phone credential too.
    const file = rendered.secret || !carriesToken(rendered.body, runtime.screenToken) ? rendered : { ...rendered, secret: true };
    const authorised = ctx.authorised ?? (file.secret ? this.authorise(req, mac, runtime, site, now) : undefined);

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
    const rec = store.recordServed(mac, fetch, audit);
    const served: ServedFile = { file, mac, vendor: phone.vendor };
    return rec.confirmed ? { ...served, syncConfirmed: { elapsedMs: rec.elapsedMs ?? 0 } } : served;
  }

  /** Checks that the requester may receive this phone's secrets; returns how it proved it, or throws. */
  private authorise(req: FileRequest, mac: string, runtime: PhoneRuntimeView, site: SiteSettings, now: number): 'own' | 'bootstrap' | 'tftp' {
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
        if (verdict.kind === 'own' && !runtime.ownCredentialUsed) this.o.store.markOwnCredentialUsed(mac);
        return verdict.kind;
      case 'missing':
        throw new HotdeskError('auth-required');
      case 'stale':
        throw new HotdeskError('auth-required', 'nonce expired', { stale: true });
      case 'bad':
        this.o.store.appendAudit({ kind: 'auth-failure', at: now, phone: mac, detail: { ip: req.remoteAddress } });
        this.fail(req.remoteAddress, now, new HotdeskError('auth-failed', 'credentials refused for this phone'));
    }
  }

  /** The render input of the phone in `ctx`, read from the store now. */
  private renderInput(ctx: ServeContext): RenderInput {
    const { phone, runtime } = ctx;
    const session = this.o.store.sessionOf(phone.mac);
    const user = session ? (this.o.store.getUser(session.userExt) ?? null) : null;
    return {
      site: ctx.site,
      phone,
      profile: ctx.profile,
      user,
      identityKeys: this.o.store.identityKeysFor(phone.mac),
      revision: runtime.revision,
      credential: { username: runtime.provUsername, password: runtime.provPassword },
      urls: this.o.urls(phone, runtime.screenToken),
      hotdeskLine: hotdeskLineInput(this.o.store.getHotdeskLine(phone.mac), phone, ctx.sip),
    };
  }

  /** Caches a rendered file under `key` (least recently used evicted first, bounded in bytes); passes the file through. */
  private remember(key: string, file: PhoneFile | null): PhoneFile | null {
    if (file) this.cache.set(key, file);
    return file;
  }
}
