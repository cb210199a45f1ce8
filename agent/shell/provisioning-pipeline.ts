/**
 * The one identification pipeline shared by HTTP and TFTP (DESIGN.md §4):
 * sanitise the path -> identify vendor/model/firmware/MAC from path and
 * User-Agent -> find (or auto-enrol) the phone -> choose its driver -> render
 * from the current state (cached by revision) -> authorise (secrets only to
 * their own phone) -> record the fetch (confirming sync).
 *
 * Every refusal is a HotdeskError with a catalog code; the protocol shells map
 * codes to answers. Nothing here logs or returns a secret except the file body
 * to its own authenticated phone.
 */
import { HotdeskError } from '../core/errors.js';
import type { AuditEvent, Phone, Session, SiteSettings, User, Vendor } from '../core/model.js';
import type { AgentUrls, Credential, Identification, IdentityKey, PhoneFile, RenderInput, VendorDriver } from '../vendors/driver.js';
import { AllowList } from './cidr.js';
import { FailureLimiter } from './rate-limiter.js';
import type { AsyncRenderer } from './render-pool.js';

/** What the pipeline needs from the store (a subset of `Store`). */
export interface PipelineStore {
  getSite(): SiteSettings;
  getPhone(mac: string): Phone | undefined;
  getUser(ext: string): User | undefined;
  sessionOf(mac: string): Session | undefined;
  phoneRuntime(mac: string): PhoneRuntimeView | undefined;
  identityKeysFor(mac: string): readonly IdentityKey[];
  enrolPhone(p: { mac: string; vendor: Vendor; model: string }, now: number): Phone;
  recordFetch(mac: string, f: { ip: string; userAgent?: string; firmware?: string; file: string; revision?: number; now: number }): { confirmed: boolean; elapsedMs?: number };
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

/** Firmware profiles lookup. */
export interface ProfileLookup {
  find(vendor: Vendor, model: string): unknown;
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

/** A served file. */
export interface ServedFile {
  readonly file: PhoneFile;
  readonly mac: string | null;
  readonly vendor: Vendor;
  /** Set when this fetch confirmed a pending sync. */
  readonly syncConfirmed?: { readonly elapsedMs: number };
}

/** The stale-nonce variant of auth-required (the shell adds `stale=true`). */
export const STALE = 'stale';

export interface PipelineOptions {
  readonly store: PipelineStore;
  readonly drivers: readonly VendorDriver[];
  readonly profiles: ProfileLookup;
  readonly urls: (phone: Phone, screenToken: string) => AgentUrls;
  readonly clock: () => number;
  readonly limiter?: FailureLimiter;
  /** Max cached rendered files. */
  readonly cacheSize?: number;
  /** Renders cache misses off the main thread in {@link ProvisioningPipeline.serveAsync} (a RenderPool). */
  readonly renderer?: AsyncRenderer;
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
  readonly profile: unknown;
  /** Render-cache key (MAC, revision, provisioning username, lower-cased name; an import bumps the revision of every phone whose inputs changed, templates load at start-up). */
  readonly key: string;
  /** The cached file, when there is one. */
  readonly hit?: PhoneFile;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Turns a requested path into a bare file name, refusing traversal in every
 * spelling: `..`, absolute paths, backslashes, percent-encoded separators or
 * dots, NUL, nested directories.
 */
export function sanitizeFileName(raw: string, percentEncoded: boolean): string {
  if (raw.length > 512) throw new HotdeskError('bad-request', 'path too long');
  let p = raw;
  if (percentEncoded) {
    try {
      p = decodeURIComponent(raw);
    } catch {
      throw new HotdeskError('bad-request', 'malformed percent-encoding in path');
    }
  }
  if (p.includes('\0') || p.includes('\\')) throw new HotdeskError('path-traversal', 'path refused');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw new HotdeskError('path-traversal', 'path refused');
  if (p.split('/').some((seg) => seg === '..' || seg === '.')) throw new HotdeskError('path-traversal', 'path refused');
  if (p.includes('/')) throw new HotdeskError('unknown-file', 'only files at the provisioning root are served');
  if (!NAME_RE.test(p)) throw new HotdeskError('unknown-file', 'not a provisioning file name');
  return p;
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
  private readonly cache = new Map<string, PhoneFile>();
  private readonly cacheSize: number;
  private allow: { cidrs: string; list: AllowList } | null = null;

  constructor(private readonly o: PipelineOptions) {
    this.limiter = o.limiter ?? new FailureLimiter();
    this.cacheSize = o.cacheSize ?? 20_000;
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
    return this.finish(req, ctx, ctx.hit !== undefined ? ctx.hit : this.remember(ctx.key, ctx.driver.render(this.renderInput(ctx), ctx.name)));
  }

  /**
   * Same as {@link serve}, but a cache miss renders on the configured worker
   * pool (in this thread when none is configured). The cache stays here.
   */
  async serveAsync(req: FileRequest): Promise<ServedFile> {
    const ctx = this.prepare(req);
    if (ctx.hit !== undefined) return this.finish(req, ctx, ctx.hit);
    const input = this.renderInput(ctx);
    const rendered = this.o.renderer ? await this.o.renderer.render(ctx.driver.vendor, input, ctx.name) : ctx.driver.render(input, ctx.name);
    return this.finish(req, ctx, this.remember(ctx.key, rendered));
  }

  /** Everything before rendering: source checks, name, identification, phone (auto-enrol), cache lookup. */
  private prepare(req: FileRequest): ServeContext {
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
    // No MAC at all (a generic name such as `y000000000000.boot` over TFTP): nothing was guessed, so it does not count.
    if (!id.mac) throw new HotdeskError('unknown-phone', 'cannot tell which phone is asking (no MAC in path or User-Agent)');
    const mac = id.mac;

    let phone = store.getPhone(mac);
    if (!phone) {
      const profile = id.model ? this.o.profiles.find(id.vendor, id.model) : undefined;
      if (!site.provisioning.autoEnrol || !id.model || !profile) {
        this.fail(req.remoteAddress, now, new HotdeskError('unknown-phone', 'unknown phone'));
      }
      phone = store.enrolPhone({ mac, vendor: id.vendor, model: id.model }, now);
    }
    if (phone.vendor !== id.vendor) this.fail(req.remoteAddress, now, new HotdeskError('unknown-file', 'file does not belong to this phone'));
    const runtime = store.phoneRuntime(mac);
    const profile = this.o.profiles.find(phone.vendor, phone.model);
    if (!runtime || !profile) throw new HotdeskError('unknown-model', `no firmware profile for ${phone.vendor} ${phone.model}`);
    // The provisioning username is in the key: an admin reset of the enrolment changes the credential
    // the files install without bumping the revision.
    const key = `${phone.mac}/${runtime.revision}/${runtime.provUsername}/${name.toLowerCase()}`;
    const hit = this.cache.get(key);
    return { now, site, name, id, driver, phone, runtime, profile, key, ...(hit !== undefined ? { hit } : {}) };
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

    if (file.secret) this.authorise(req, mac, runtime, site, now);

    const rec = store.recordFetch(mac, {
      ip: req.remoteAddress,
      ...(req.userAgent !== undefined ? { userAgent: req.userAgent } : {}),
      ...(id.firmware !== undefined ? { firmware: id.firmware } : {}),
      file: file.name,
      ...(file.carriesRevision ? { revision: runtime.revision } : {}),
      now,
    });
    if (file.secret) {
      store.appendAudit({ kind: 'secret-served', at: now, phone: mac, detail: { ip: req.remoteAddress, file: file.name, revision: runtime.revision, protocol: req.protocol } });
    }
    const served: ServedFile = { file, mac, vendor: phone.vendor };
    return rec.confirmed ? { ...served, syncConfirmed: { elapsedMs: rec.elapsedMs ?? 0 } } : served;
  }

  private authorise(req: FileRequest, mac: string, runtime: PhoneRuntimeView, site: SiteSettings, now: number): void {
    if (req.protocol === 'tftp') {
      if (!site.provisioning.allowTftpSecrets) throw new HotdeskError('secret-over-tftp', 'this file is not served over TFTP');
      return;
    }
    if (!req.authenticate) throw new HotdeskError('auth-required');
    const accepted: AcceptedCredential[] = [{ kind: 'own', username: runtime.provUsername, password: runtime.provPassword }];
    if (!runtime.ownCredentialUsed) accepted.push({ kind: 'bootstrap', ...site.provisioning.bootstrap });
    const verdict = req.authenticate(accepted);
    switch (verdict.status) {
      case 'ok':
        if (verdict.kind === 'own' && !runtime.ownCredentialUsed) this.o.store.markOwnCredentialUsed(mac);
        return;
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
    };
  }

  /** Caches a rendered file under `key` (oldest entry evicted first); passes the file through. */
  private remember(key: string, file: PhoneFile | null): PhoneFile | null {
    if (file) {
      if (this.cache.size >= this.cacheSize) {
        const first = this.cache.keys().next();
        if (!first.done) this.cache.delete(first.value);
      }
      this.cache.set(key, file);
    }
    return file;
  }
}
