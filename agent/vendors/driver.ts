/**
 * The one interface every vendor driver implements (Yealink, Snom, Poly).
 *
 * A driver is pure: it turns request facts into an identification, and a
 * typed render input into files and screens. It never touches sockets, files
 * (templates and profiles are loaded by the shell and handed in), the store
 * or the clock.
 */
import type { DeskOutcome, IdentityKey, Phone, SiteSettings, User, Vendor } from '../core/model.js';
import type { FirmwareProfile } from './firmware-profile.js';

/** What a request path and User-Agent say about the phone asking. */
export interface Identification {
  readonly vendor: Vendor;
  /** Normalised MAC when the path or the User-Agent carries one. */
  readonly mac?: string;
  /** Where the MAC came from (both = they agree; the pipeline checks disagreement). */
  readonly macFromPath?: string;
  readonly macFromUserAgent?: string;
  /** Model id as in firmware profiles (e.g. `T46U`, `D785`, `VVX450`) when known. */
  readonly model?: string;
  readonly firmware?: string;
  /** The file name as the driver knows it (case-normalised for Snom). */
  readonly file: string;
}

/** A file the phone may request. */
export interface PhoneFile {
  /** File name at the provisioning root, e.g. `001565aabb01.cfg`. */
  readonly name: string;
  readonly contentType: string;
  readonly body: string;
  /** Holds a SIP password or provisioning credential: served only to its own authenticated phone, never over TFTP by default. */
  readonly secret: boolean;
  /** The file whose fetch confirms that the phone has the current revision. */
  readonly carriesRevision: boolean;
}

/** Provisioning credential installed into a phone by its first file. */
export interface Credential {
  readonly username: string;
  readonly password: string;
}

/** One identity key on the phone (defined with the model: the store reads them too). */
export type { IdentityKey } from '../core/model.js';

/** URLs the files point back to (all absolute, built by the shell). */
export interface AgentUrls {
  /** Provisioning base URL, no trailing slash (`http://10.0.0.5:8080`). */
  readonly provisioning: string;
  /** The phone's own hot-desk XML-browser menu (carries the per-phone screen token). */
  readonly screens: string;
  /** Outgoing-call action URL base for Yealink/Snom (the driver appends vendor variables). */
  readonly actionUrl: string;
  /** Poly telephony-notification POST URL. */
  readonly telNotification: string;
  /** Firmware file URL when the profile names one. */
  readonly firmware?: string;
}

/**
 * The phone's hot-desk line as its files need it: its SIP credentials (from
 * the store) and where the agent takes its REGISTER (the host of the
 * provisioning URL the phone uses, the agent's SIP UDP port).
 */
export interface HotdeskLineInput {
  readonly username: string;
  /** Clear text: written only into the phone's own secret file. */
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp';
}

/** Everything needed to render a phone's files; immutable. */
export interface RenderInput {
  readonly site: SiteSettings;
  readonly phone: Phone;
  /** The firmware profile of `phone.model`, validated when it was loaded (vendors/firmware-profile.ts). */
  readonly profile: FirmwareProfile;
  /** The user logged in, or null (logged out). */
  readonly user: User | null;
  readonly identityKeys: readonly IdentityKey[];
  readonly revision: number;
  /** The phone's own provisioning credential (installed by its first file). */
  readonly credential: Credential;
  readonly urls: AgentUrls;
  /** The phone's hot-desk line; null for a phone that is not hot-desk (or when the agent has no SIP address to give). */
  readonly hotdeskLine: HotdeskLineInput | null;
}

/**
 * What a MAC-less common file needs (the files a phone asks for before its
 * own: Yealink `y000000000000.boot` / `y0000000000NN.cfg`, Poly
 * `000000000000.cfg`, Snom `snom<MODEL>.htm`). Deliberately no phone, user,
 * credential or token: such a file must hold nothing secret and nothing
 * per-phone.
 */
export interface CommonInput {
  readonly site: SiteSettings;
  /** Provisioning base URL, no trailing slash. */
  readonly provisioning: string;
  /** Model id from the User-Agent, when it named one. */
  readonly model?: string;
}

/** One identity offered on the phone's hot-desk screen. */
export interface ScreenIdentity {
  readonly ext: string;
  readonly label: string;
}

/** Everything an XML-browser screen needs (docs/vendors.md "XML browser dialects"); built by the shell. */
export interface ScreenContext {
  /**
   * The phone's screen base URL, already carrying its screen token as a path
   * segment and no trailing slash (`http://10.0.0.5:8080/xml/<mac>/<token>`).
   * Renderers append fixed path segments (see vendors/screens/screen-urls.ts)
   * so the phone can append `?param=value` on submit.
   */
  readonly baseUrl: string;
  /** Human label of the phone (title line). */
  readonly phoneLabel: string;
  /** The user logged in now, if any. */
  readonly currentUser?: { readonly ext: string; readonly name: string };
  /** Identities whose one-touch entries the menu offers. */
  readonly identities: readonly ScreenIdentity[];
  /** The outcome to show (used by `renderResult` when no explicit outcome is passed). */
  readonly outcome?: DeskOutcome;
  /** IANA zone for times in result texts (lock end). */
  readonly timezone?: string;
}

/** A rendered XML-browser screen. */
export interface Screen {
  readonly contentType: string;
  readonly body: string;
}

/** Pure XML-browser screen renderers of one vendor. */
export interface ScreenRenderer {
  /** The hot-desk menu: log in, one entry per identity, log out when someone is logged in. */
  renderMenu(ctx: ScreenContext): Screen;
  /** Login form: short number and PIN (Snom: short number only, PIN on the next screen). */
  renderLoginForm(ctx: ScreenContext): Screen;
  /** PIN form for a known short number (Snom's second screen; identity entries of every vendor). */
  renderPinForm(ctx: ScreenContext, ext: string): Screen;
  /** Confirmation of an outcome (logged in, logged out, wrong PIN...). */
  renderResult(ctx: ScreenContext, outcome: DeskOutcome): Screen;
}

/** A vendor driver. */
export interface VendorDriver {
  readonly vendor: Vendor;
  /**
   * Recognise a request. `path` is the decoded file name without leading `/`
   * (already checked for traversal). Returns null when the request is not for
   * this vendor.
   */
  identify(path: string, userAgent: string | undefined): Identification | null;
  /** Names of the files this phone may request now, in boot order. */
  fileNames(input: RenderInput): readonly string[];
  /** Render one file by name (case rules per vendor); null when not one of this phone's files. */
  render(input: RenderInput, name: string): PhoneFile | null;
  /**
   * Render a vendor common file asked for without any MAC (see CommonInput);
   * null when `name` is not one. The result is never secret and leads the
   * phone to its own files.
   */
  renderCommon(name: string, input: CommonInput): PhoneFile | null;
  /**
   * True when `name` (a sanitised file name) is one of the vendor's per-phone
   * files that hold secrets. Decided from the name alone, so the pipeline can
   * authorise a request before anything is rendered for it.
   */
  isSecretFile(name: string): boolean;
  /** Value of the `Event` header for a re-sync NOTIFY (e.g. `check-sync;reboot=false`). */
  readonly checkSyncEvent: string;
  /** XML-browser screens of this vendor. */
  readonly screens: ScreenRenderer;
}
