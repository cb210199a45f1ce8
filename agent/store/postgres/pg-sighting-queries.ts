/**
 * Quarantined PnP sightings in PostgreSQL (the StoreData sighting methods of the PostgreSQL backend):
 * the same caps, results and errors as SQLite's sighting-queries.ts (whose rows and accept check it
 * uses), and the admin's accept (enrolling the phone) or dismiss of one.
 */
import { HotdeskError } from '../../core/errors.js';
import type { Phone, Vendor } from '../../core/model.js';
import { normalizeMac } from '../../core/model.js';
import {
  DEFAULT_SIGHTING_CAPS,
  enrolmentOfSighting,
  SIGHTING_COLUMNS,
  type SightingCaps,
  type SightingInput,
  type SightingRow,
  sightingFromRow,
} from '../sighting-queries.js';
import type { PnpSighting } from '../store-types.js';
import type { PgDb } from './pg-db.js';
import { enrolPhone } from './pg-directory-queries.js';

/** A repeat sighting of `m`: latest time, address, vendor and model (when given), count + 1. True when there was a row. */
async function repeatSighting(db: PgDb, m: string, s: SightingInput): Promise<boolean> {
  const n = await db.run(
    'UPDATE pnp_sightings SET at = $1, ip = $2, vendor = COALESCE($3, vendor), model = COALESCE($4, model), count = count + 1 WHERE mac = $5',
    [s.at, s.ip, s.vendor ?? null, s.model ?? null, m],
  );
  return n > 0;
}

/**
 * Records a sighting (one row per MAC, counting repeats), in one transaction. A new MAC is added only
 * while its source holds fewer than `caps.perSource` rows and the table fewer than `caps.total` (rows
 * older than `caps.maxAgeMs` are dropped to make room). Returns `new`, `repeat` or `capped` (nothing
 * written). Two agents seeing the same new MAC at once make one row: the later insert counts as a repeat.
 */
export async function recordSighting(db: PgDb, s: SightingInput, caps: SightingCaps = DEFAULT_SIGHTING_CAPS): Promise<'new' | 'repeat' | 'capped'> {
  const m = normalizeMac(s.mac);
  if (m === null) return 'capped';
  return db.transaction(async () => {
    if (await repeatSighting(db, m, s)) return 'repeat';
    const count = async (where: string, args: unknown[]): Promise<number> =>
      (await db.one<{ n: number }>(`SELECT count(*)::int AS n FROM pnp_sightings${where}`, args))?.n ?? 0;
    if ((await count(' WHERE ip = $1', [s.ip])) >= caps.perSource) return 'capped';
    if ((await count('', [])) >= caps.total) {
      await db.run('DELETE FROM pnp_sightings WHERE at < $1', [s.at - caps.maxAgeMs]);
      if ((await count('', [])) >= caps.total) return 'capped';
    }
    const inserted = await db.run(
      'INSERT INTO pnp_sightings (mac, first_at, at, ip, vendor, model, via) VALUES ($1, $2, $2, $3, $4, $5, $6) ON CONFLICT (mac) DO NOTHING',
      [m, s.at, s.ip, s.vendor ?? null, s.model ?? null, s.via ?? 'pnp'],
    );
    if (inserted > 0) return 'new';
    return (await repeatSighting(db, m, s)) ? 'repeat' : 'capped';
  });
}

/** Every sighting, most recent first. */
export async function listSightings(db: PgDb): Promise<PnpSighting[]> {
  return (await db.query<SightingRow>(`SELECT ${SIGHTING_COLUMNS} FROM pnp_sightings ORDER BY at DESC, mac`)).map(sightingFromRow);
}

/**
 * Admin: accepts the sighting of `mac` as an enrolled phone (hot-desk on, logged out; audit
 * `enrolment`; a phone already known is returned unchanged) and forgets the sighting, in one
 * transaction. Throws `bad-request` for an invalid MAC, `unknown-phone` when there is no such
 * sighting and `unknown-model` when its model is unknown or missing.
 */
export async function acceptSighting(
  db: PgDb,
  key: Buffer,
  mac: string,
  knownModel: (vendor: Vendor, model: string) => string | undefined,
  now: number,
): Promise<Phone> {
  const m = normalizeMac(mac);
  if (m === null) throw new HotdeskError('bad-request', 'invalid MAC address');
  return db.transaction(async () => {
    const r = await db.one<SightingRow>(`SELECT ${SIGHTING_COLUMNS} FROM pnp_sightings WHERE mac = $1`, [m]);
    const phone = await enrolPhone(db, key, enrolmentOfSighting(m, r && sightingFromRow(r), knownModel), now);
    await db.run('DELETE FROM pnp_sightings WHERE mac = $1', [m]);
    return phone;
  });
}

/** Admin: forgets a sighting without enrolling it; false when there was none. */
export async function dismissSighting(db: PgDb, mac: string): Promise<boolean> {
  return (await db.run('DELETE FROM pnp_sightings WHERE mac = $1', [normalizeMac(mac) ?? ''])) > 0;
}
