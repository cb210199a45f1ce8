/**
 * Quarantined PnP sightings in SQLite (used by Store): unauthenticated first
 * contacts (SIP PnP, HTTP or TFTP) of phones that are not enrolled, capped
 * per source and in total, and the admin's accept/dismiss of one.
 */
import type Database from 'better-sqlite3';
import { HotdeskError } from '../core/errors.js';
import type { Vendor } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import type { PnpSighting } from './store-types.js';

/** Caps on quarantined sightings: nothing an unauthenticated sender does grows them without bound. */
export interface SightingCaps {
  /** Distinct MACs one source address may have in the table. */
  readonly perSource: number;
  /** Rows in the table. */
  readonly total: number;
  /** Rows older than this (ms) make room for new ones when the table is full. */
  readonly maxAgeMs: number;
}

export const DEFAULT_SIGHTING_CAPS: SightingCaps = { perSource: 16, total: 1_000, maxAgeMs: 7 * 24 * 3_600_000 };

/** One sighting: an unauthenticated first contact (SIP PnP, HTTP or TFTP) of a phone that is not enrolled. */
export interface SightingInput {
  readonly mac: string;
  readonly ip: string;
  readonly vendor?: string;
  readonly model?: string;
  readonly at: number;
  readonly via?: 'pnp' | 'http' | 'tftp';
}

/**
 * Records a sighting (one row per MAC, counting repeats). A new MAC is added
 * only while its source holds fewer than `caps.perSource` rows and the table
 * fewer than `caps.total` (rows older than `caps.maxAgeMs` are dropped to make
 * room). Returns `new`, `repeat` or `capped` (nothing written).
 */
export function recordSightingRow(db: Database.Database, s: SightingInput, caps: SightingCaps = DEFAULT_SIGHTING_CAPS): 'new' | 'repeat' | 'capped' {
  const m = normalizeMac(s.mac);
  if (m === null) return 'capped';
  const repeat = db
    .prepare('UPDATE pnp_sightings SET at = ?, ip = ?, vendor = COALESCE(?, vendor), model = COALESCE(?, model), count = count + 1 WHERE mac = ?')
    .run(s.at, s.ip, s.vendor ?? null, s.model ?? null, m);
  if (repeat.changes > 0) return 'repeat';
  const fromSource = (db.prepare('SELECT COUNT(*) AS n FROM pnp_sightings WHERE ip = ?').get(s.ip) as { n: number }).n;
  if (fromSource >= caps.perSource) return 'capped';
  const count = (): number => (db.prepare('SELECT COUNT(*) AS n FROM pnp_sightings').get() as { n: number }).n;
  if (count() >= caps.total) {
    db.prepare('DELETE FROM pnp_sightings WHERE at < ?').run(s.at - caps.maxAgeMs);
    if (count() >= caps.total) return 'capped';
  }
  db.prepare('INSERT INTO pnp_sightings (mac, first_at, at, ip, vendor, model, via) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    m,
    s.at,
    s.at,
    s.ip,
    s.vendor ?? null,
    s.model ?? null,
    s.via ?? 'pnp',
  );
  return 'new';
}

/** Forgets a sighting (accepted or dismissed by an admin); false when there was none. */
export function deleteSightingRow(db: Database.Database, mac: string): boolean {
  return db.prepare('DELETE FROM pnp_sightings WHERE mac = ?').run(normalizeMac(mac) ?? '').changes > 0;
}

/** A `pnp_sightings` row. */
export interface SightingRow {
  mac: string;
  first_at: number;
  at: number;
  ip: string;
  vendor: string | null;
  model: string | null;
  count: number;
  via: string;
}

/** The columns of {@link SightingRow}, for `SELECT`. */
export const SIGHTING_COLUMNS = 'mac, first_at, at, ip, vendor, model, count, via';

/** The sighting a row holds. */
export const sightingFromRow = (r: SightingRow): PnpSighting => ({
  mac: r.mac,
  firstAt: r.first_at,
  at: r.at,
  ip: r.ip,
  vendor: r.vendor,
  model: r.model,
  count: r.count,
  via: r.via,
});

/** Every sighting, most recent first. */
export function listSightingRows(db: Database.Database): PnpSighting[] {
  return (db.prepare(`SELECT ${SIGHTING_COLUMNS} FROM pnp_sightings ORDER BY at DESC, mac`).all() as SightingRow[]).map(sightingFromRow);
}

/**
 * The phone to enrol for accepting sighting `s` of `m` (normalized MAC; undefined: there is none).
 * Throws `unknown-phone` when there is no such sighting and `unknown-model` when its model is unknown
 * or missing.
 */
export function enrolmentOfSighting(
  m: string,
  s: PnpSighting | undefined,
  knownModel: (vendor: Vendor, model: string) => string | undefined,
): { mac: string; vendor: Vendor; model: string } {
  if (!s) throw new HotdeskError('unknown-phone', `no sighting of ${m}`);
  const vendor = s.vendor as Vendor | null;
  const model = vendor && s.model ? knownModel(vendor, s.model) : undefined;
  if (!vendor || !model)
    throw new HotdeskError(
      'unknown-model',
      `sighting ${m} names no known model (${s.vendor ?? '?'} ${s.model ?? '?'}): add the phone to the directory instead`,
    );
  return { mac: m, vendor, model };
}

/** {@link enrolmentOfSighting} of the sighting of `m` (normalized MAC) in the table. */
export function sightingToEnrol(
  db: Database.Database,
  m: string,
  knownModel: (vendor: Vendor, model: string) => string | undefined,
): { mac: string; vendor: Vendor; model: string } {
  return enrolmentOfSighting(
    m,
    listSightingRows(db).find((x) => x.mac === m),
    knownModel,
  );
}
