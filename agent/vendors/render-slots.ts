/**
 * The slot types of the render context (account slots, key slots, numbered
 * list entries) and the cleared ones every phone shares: a cleared slot is the
 * same value for every phone of a profile, so it is built once, frozen, and
 * marked phone-independent, letting a `render` partial given it reuse its
 * output (partial-memo.ts).
 *
 * Pure module.
 */
import type { Transport } from '../core/model.js';
import type { FirmwareProfile } from './firmware-profile.js';
import type { KeyRole } from './key-layout.js';
import { markPhoneIndependent } from './partial-memo.js';

/** One account slot (Yealink account N, Snom identity N, Poly reg N). */
export interface AccountSlot {
  readonly index: number;
  /** Carries an account now (user's, device account or the hot-desk line). */
  readonly active: boolean;
  readonly source: 'user' | 'device' | 'hotdesk' | 'none';
  readonly user: string;
  readonly authName: string;
  readonly password: string;
  readonly displayName: string;
  readonly label: string;
  readonly outboundCallerId: string;
  readonly voicemailNumber: string;
  readonly host: string;
  /** 0 when inactive. */
  readonly port: number;
  /** `host:port`, empty when inactive. */
  readonly hostPort: string;
  /** `udp|tcp|tls`, empty when inactive. */
  readonly transport: Transport | '';
  /** Vendor transport code, empty when inactive. */
  readonly transportCode: string | number;
  /** Subscribe to message-waiting indication. */
  readonly mwi: boolean;
}

/** One programmable key slot, used or cleared. */
export interface KeySlot {
  /** 1-based across phone keys then modules (soft keys: 1-based soft-key number). */
  readonly slot: number;
  /** 0-based vendor index continuing onto modules (Snom fkey idx). */
  readonly index0: number;
  readonly area: 'line' | 'expansion' | 'soft';
  readonly module: number;
  readonly position: number;
  readonly used: boolean;
  readonly role: KeyRole | 'none';
  /** Vendor key code from the profile's keyTypes. */
  readonly type: string | number;
  readonly label: string;
  /** Final value: dial string for identity keys, the feature prefix for the "Hot desk" key, the menu URL for the menu key. */
  readonly value: string;
  readonly line: number;
  /** The key uses the hot-desk line (`line` is its slot). */
  readonly onHotdeskLine: boolean;
  /** Poly EFK list index for one-touch dial keys (identity, speed); 0 otherwise. */
  readonly efk: number;
  /** Poly attendant resource-list index for BLF keys; 0 otherwise. */
  readonly blf: number;
}

/** One numbered list entry (Poly EFK list, attendant resource list), used or cleared. */
export interface ListSlot {
  readonly index: number;
  readonly used: boolean;
  readonly label: string;
  /** EFK: the digits to dial; resource list: the monitored address. */
  readonly value: string;
}

function shared<T extends object>(value: T): T {
  return markPhoneIndependent(Object.freeze(value));
}

/** Cleared account slots by index - 1, and cleared list entries by index - 1: the same for every phone. */
const accountsCleared: AccountSlot[] = [];
const listCleared: ListSlot[] = [];

/** The cleared account slot `index` (1-based), shared. */
export function emptyAccount(index: number): AccountSlot {
  const hit = accountsCleared[index - 1];
  if (hit !== undefined) return hit;
  const v: AccountSlot = shared({
    index,
    active: false,
    source: 'none',
    user: '',
    authName: '',
    password: '',
    displayName: '',
    label: '',
    outboundCallerId: '',
    voicemailNumber: '',
    host: '',
    port: 0,
    hostPort: '',
    transport: '',
    transportCode: '',
    mwi: false,
  });
  if (index >= 1 && index <= MAX_SLOTS) accountsCleared[index - 1] = v;
  return v;
}

/** An unused EFK-list or resource-list entry `index` (1-based), shared. */
export function emptyListSlot(index: number): ListSlot {
  const hit = listCleared[index - 1];
  if (hit !== undefined) return hit;
  const v: ListSlot = shared({ index, used: false, label: '', value: '' });
  if (index >= 1 && index <= MAX_SLOTS) listCleared[index - 1] = v;
  return v;
}

/** Slot numbers above this are built per render instead of kept (no profile comes near). */
const MAX_SLOTS = 4096;

/** 0-based vendor key index: phone keys from 0, module keys from `firstKeyIndex` (default: after the phone's keys). */
export function indexZero(profile: FirmwareProfile, a: { area: string; module: number; position: number }): number {
  if (a.area !== 'expansion') return a.position - 1;
  const per = profile.expansionModules.keysPerModule;
  const first = profile.expansionModules.firstKeyIndex ?? profile.lineKeys;
  return first + (a.module - 1) * per + (a.position - 1);
}

/** The cleared key slots of one key geometry (key code for "none", phone keys, module size, first module index). */
interface Geometry {
  /** Phone and module keys by slot - 1. */
  readonly hard: KeySlot[];
  /** Soft keys by number - 1. */
  readonly soft: KeySlot[];
}

const byGeometry = new Map<string, Geometry>();
/** Distinct key geometries kept (profiles share a few). */
const MAX_GEOMETRIES = 1024;

function cleared(type: string | number, at: Pick<KeySlot, 'slot' | 'index0' | 'area' | 'module' | 'position'>): KeySlot {
  return shared({ ...at, used: false, role: 'none', type, label: '', value: '', line: 1, onHotdeskLine: false, efk: 0, blf: 0 });
}

/** The unused key slots of one profile, shared between phones: written out explicitly so the phone clears whatever it held. */
export interface ClearedKeys {
  /** The unused phone or module key `slot` (1-based across phone keys then modules). */
  key(slot: number): KeySlot;
  /** The unused soft key `n` (1-based). */
  soft(n: number): KeySlot;
}

/** The cleared key slots of `profile` (look this up once per render: it keys a map by the profile's key geometry). */
export function clearedKeys(profile: FirmwareProfile): ClearedKeys {
  const none = profile.keyTypes.none;
  const m = profile.expansionModules;
  const id = `${typeof none}|${none}|${profile.lineKeys}|${m.keysPerModule}|${m.firstKeyIndex ?? ''}`;
  let g = byGeometry.get(id);
  if (g === undefined) {
    g = { hard: [], soft: [] };
    if (byGeometry.size < MAX_GEOMETRIES) byGeometry.set(id, g);
  }
  const { hard, soft } = g;
  return {
    key(slot: number): KeySlot {
      const hit = hard[slot - 1];
      if (hit !== undefined) return hit;
      const onPhone = slot <= profile.lineKeys;
      const rest = slot - profile.lineKeys - 1;
      const area = onPhone ? 'line' : 'expansion';
      const module = onPhone ? 0 : Math.floor(rest / m.keysPerModule) + 1;
      const position = onPhone ? slot : (rest % m.keysPerModule) + 1;
      const v = cleared(none, { slot, index0: indexZero(profile, { area, module, position }), area, module, position });
      if (slot >= 1 && slot <= MAX_SLOTS) hard[slot - 1] = v;
      return v;
    },
    soft(n: number): KeySlot {
      const hit = soft[n - 1];
      if (hit !== undefined) return hit;
      const v = cleared(none, { slot: n, index0: n - 1, area: 'soft', module: 0, position: n });
      if (n >= 1 && n <= MAX_SLOTS) soft[n - 1] = v;
      return v;
    },
  };
}
