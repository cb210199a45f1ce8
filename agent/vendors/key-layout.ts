/**
 * The ONE place that assigns a phone's programmable keys (drivers render what
 * this returns; the directory importer calls it to refuse impossible layouts
 * at import time).
 *
 * Order on the phone's line keys, continuing onto expansion modules:
 * 1. `profile.lineAppearanceKeys` line key(s) for account 1 (the user's or
 *    device account's line appearance), then a line key for the hot-desk line
 *    when the site asks for one (`voice.lineKey`), the model has programmable
 *    keys and no line appearance key shows that account already,
 * 2. one identity key per `phone.identities` entry (dials `<prefix>*<ext>*<pin>`
 *    over the hot-desk line when the phone has one now, else account 1),
 * 3. the "Hot desk" key (dials the bare feature prefix over the same line),
 *    on hot-desk phones whose model has one-touch dial keys, only when a key
 *    is left over once everything else is placed (it never makes a layout
 *    too big),
 * 4. the hot-desk menu key, when the phone has hot-desking on, the model has
 *    an XML browser and somewhere to put it (a model without any programmable
 *    key, such as the Yealink CP920/CP960 conference phones, T30 or
 *    T19(P) E2, hot-desks by dialling the feature code only), and IT did not
 *    place a `hotdesk-menu` key itself,
 * 5. `phone.keys` in the order IT listed them.
 * Kinds the model cannot use ({@link deadKeyKinds}: menu and `url` keys
 * without an XML browser, identity and speed keys on Poly models without EFK
 * line keys) are left out, and the directory importer refuses them, so no key
 * of a browserless phone points at a screen URL. Hot-desking there works
 * through the feature code and the one-touch identity keys only.
 * URL keys (the menu and IT's `url` keys) go to soft keys instead on models
 * whose `capabilities.urlKeys` is `soft-key` (Poly: a line key cannot open a
 * URL; docs/vendors.md "Accounts and keys").
 *
 * Pure module.
 */
import { HotdeskError } from '../core/errors.js';
import type { KeyKind, KeySpec, Phone } from '../core/model.js';
import type { FirmwareProfile } from './firmware-profile.js';

/** What a key does (`hotdesk`: the "Hot desk" key, dialling the bare feature prefix). */
export type KeyRole = 'line' | 'identity' | 'hotdesk' | 'hotdesk-menu' | 'speed' | 'blf' | 'url';

/** Label of the "Hot desk" key and of the hot-desk line itself. */
export const HOTDESK_KEY_LABEL = 'Hot desk';
/** Label of the automatic hot-desk menu key (XML-browser screens). */
export const HOTDESK_MENU_LABEL = 'Hot desk menu';

/** One assigned key. */
export interface KeyAssignment {
  /** `line`: a key on the phone; `expansion`: a key on module `module`; `soft`: a programmable soft key. */
  readonly area: 'line' | 'expansion' | 'soft';
  /** 0 for phone and soft keys; 1..max for expansion modules. */
  readonly module: number;
  /** 1-based position within the phone, module or soft-key row. */
  readonly position: number;
  /** 1-based index across phone keys then modules (soft keys: same as position). */
  readonly slot: number;
  readonly role: KeyRole;
  /** Label as configured (identity keys: the short number; drivers use the identity's label). */
  readonly label: string;
  /** Number, URI or URL; identity keys: the short number; "Hot desk" key and hot-desk menu: empty (the driver fills them in). */
  readonly value: string;
  /** Account index (1-based) the key uses. */
  readonly line: number;
}

/** Options of {@link keyLayout}. */
export interface KeyLayoutOptions {
  /** Add the hot-desk menu key (normally `phone.hotdesk`); still needs an XML browser. */
  readonly hotdeskMenu: boolean;
  /** Add the "Hot desk" key when a key is left over (normally `phone.hotdesk`); still needs one-touch dial keys. */
  readonly hotdeskKey?: boolean;
  /**
   * The phone's hot-desk line now: its account slot, and whether the site wants
   * a line key for it. Identity keys and the "Hot desk" key use that slot.
   */
  readonly hotdeskLine?: { readonly slot: number; readonly lineKey: boolean } | null;
}

interface Wanted {
  readonly role: KeyRole;
  readonly label: string;
  readonly value: string;
  readonly line: number;
  readonly soft: boolean;
}

function fromSpec(k: KeySpec, softUrls: boolean, dialLine: number): Wanted {
  const line = k.line ?? 1;
  switch (k.kind) {
    case 'identity':
      return { role: 'identity', label: k.label, value: k.value, line: k.line ?? dialLine, soft: false };
    case 'hotdesk-menu':
      return { role: 'hotdesk-menu', label: k.label, value: '', line, soft: softUrls };
    case 'url':
      return { role: 'url', label: k.label, value: k.value, line, soft: softUrls };
    default:
      return { role: k.kind, label: k.label, value: k.value, line, soft: false };
  }
}

/**
 * Key kinds this model cannot use, so they would be dead keys:
 * - without an XML browser (`capabilities.xmlBrowser` false) the hot-desk
 *   menu and `url` keys have no screen to open;
 * - a Poly model without enhanced feature keys on line keys
 *   (`capabilities.efk` false: SoundPoint IP) has no one-touch dial key, so
 *   identity and speed keys (EFK entries) cannot be placed.
 * Empty for a model that can use every kind.
 */
export function deadKeyKinds(profile: FirmwareProfile): readonly KeyKind[] {
  const dead: KeyKind[] = [];
  if (!profile.capabilities.xmlBrowser) dead.push('hotdesk-menu', 'url');
  if (profile.vendor === 'poly' && !profile.capabilities.efk) dead.push('identity', 'speed');
  return dead;
}

/** Total programmable keys of a model: phone keys plus every expansion module key. */
export function keyCapacity(profile: FirmwareProfile): number {
  return profile.lineKeys + profile.expansionModules.max * profile.expansionModules.keysPerModule;
}

/**
 * Assigns every key of `phone` (see module doc for the order). Throws
 * HotdeskError('too-many-keys', `phone <mac> (<model>) needs N keys but has M`)
 * when the phone keys plus expansion modules (or the soft keys) cannot hold them.
 */
export function keyLayout(phone: Phone, profile: FirmwareProfile, opts: KeyLayoutOptions): readonly KeyAssignment[] {
  const softUrls = profile.capabilities.urlKeys === 'soft-key';
  const wanted: Wanted[] = [];
  const hl = opts.hotdeskLine ?? null;
  const dialLine = hl?.slot ?? 1;
  for (let i = 0; i < profile.lineAppearanceKeys; i += 1) wanted.push({ role: 'line', label: '', value: '', line: i + 1, soft: false });
  if (hl?.lineKey && hl.slot > profile.lineAppearanceKeys && keyCapacity(profile) > 0)
    wanted.push({ role: 'line', label: HOTDESK_KEY_LABEL, value: '', line: hl.slot, soft: false });
  const dead = deadKeyKinds(profile);
  if (!dead.includes('identity')) for (const ext of phone.identities) wanted.push({ role: 'identity', label: ext, value: ext, line: dialLine, soft: false });
  const hotdeskKeyAt = wanted.length;
  const itHasMenu = phone.keys.some((k) => k.kind === 'hotdesk-menu');
  const menuHasRoom = softUrls ? profile.softKeys > 0 : keyCapacity(profile) > 0;
  if (opts.hotdeskMenu && phone.hotdesk && profile.capabilities.xmlBrowser && menuHasRoom && !itHasMenu) {
    wanted.push({ role: 'hotdesk-menu', label: HOTDESK_MENU_LABEL, value: '', line: 1, soft: softUrls });
  }
  for (const k of phone.keys) if (!dead.includes(k.kind)) wanted.push(fromSpec(k, softUrls, dialLine));
  // The "Hot desk" key only takes a key that would otherwise stay free.
  if (opts.hotdeskKey && phone.hotdesk && !dead.includes('speed') && wanted.filter((w) => !w.soft).length < keyCapacity(profile)) {
    wanted.splice(hotdeskKeyAt, 0, { role: 'hotdesk', label: HOTDESK_KEY_LABEL, value: '', line: dialLine, soft: false });
  }

  const hard = wanted.filter((w) => !w.soft);
  const soft = wanted.filter((w) => w.soft);
  const capacity = keyCapacity(profile);
  if (hard.length > capacity) {
    throw new HotdeskError('too-many-keys', `phone ${phone.mac} (${profile.model}) needs ${hard.length} keys but has ${capacity}`, {
      phone: phone.mac,
      model: profile.model,
      needed: hard.length,
      available: capacity,
    });
  }
  if (soft.length > profile.softKeys) {
    throw new HotdeskError('too-many-keys', `phone ${phone.mac} (${profile.model}) needs ${soft.length} soft keys but has ${profile.softKeys}`, {
      phone: phone.mac,
      model: profile.model,
      needed: soft.length,
      available: profile.softKeys,
    });
  }
  const out: KeyAssignment[] = [];
  hard.forEach((w, i) => {
    const slot = i + 1;
    const onPhone = slot <= profile.lineKeys;
    const rest = slot - profile.lineKeys - 1;
    const per = profile.expansionModules.keysPerModule;
    out.push(
      Object.freeze({
        area: onPhone ? 'line' : 'expansion',
        module: onPhone ? 0 : Math.floor(rest / per) + 1,
        position: onPhone ? slot : (rest % per) + 1,
        slot,
        role: w.role,
        label: w.label,
        value: w.value,
        line: w.line,
      } as const),
    );
  });
  soft.forEach((w, i) => {
    out.push(Object.freeze({ area: 'soft', module: 0, position: i + 1, slot: i + 1, role: w.role, label: w.label, value: w.value, line: w.line } as const));
  });
  return Object.freeze(out);
}
