/**
 * Numbered schema migrations of the PostgreSQL store (their own numbering, not SQLite's). Each runs in
 * its own transaction together with its row in `schema_migrations`, so a crash leaves the database at a
 * whole version. Agents starting together against one database take a transaction-scoped advisory lock
 * first, so exactly one of them applies each migration and the others then see it applied.
 *
 * Version 1 is the SQLite schema as of its migration 7 (migrations.ts), re-expressed for PostgreSQL:
 * the same tables, columns, CHECKs (GLOB patterns as `~` regular expressions) and indexes; epoch
 * milliseconds as BIGINT; 0/1 flags as SMALLINT; `audit.id` an identity column. The same invariants
 * hold in the schema itself: one session per phone (primary key), one per user under `move`/`refuse`
 * (UNIQUE index on `sessions.exclusive_user`; NULLs never collide).
 *
 * Version 2 adds what several agents sharing the database need: the agent that wrote each audit event,
 * the pool of the agent that last served a phone's secret file (its LAN reaches the phone), sync claims,
 * the `agents` table and `meta` (holding `key_check`, see pg-store.ts).
 */
import { HotdeskError } from '../../core/errors.js';
import type { PgDb } from './pg-db.js';

/** One schema step. */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Key of the advisory lock migrations take (any constant; the same in every agent). */
export const MIGRATION_LOCK_KEY = 7_203_340_101;

/** Every migration, in order. Append only; never edit a released one. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema (SQLite schema 7)',
    sql: `
CREATE TABLE site (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL,
  secrets_enc TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE users (
  ext TEXT PRIMARY KEY CHECK (ext ~ '^[0-9]{1,15}$'),
  name TEXT NOT NULL,
  hotdesk SMALLINT NOT NULL CHECK (hotdesk IN (0, 1)),
  sip_user TEXT NOT NULL,
  sip_auth_name TEXT NOT NULL,
  sip_password_enc TEXT NOT NULL,
  display_name TEXT NOT NULL,
  outbound_caller_id TEXT,
  voicemail_number TEXT,
  pin_hash TEXT,
  pin_enc TEXT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX users_sip_user ON users (sip_user);
CREATE TABLE phones (
  mac TEXT PRIMARY KEY CHECK (mac ~ '^[0-9a-f]{12}$'),
  vendor TEXT NOT NULL CHECK (vendor IN ('yealink', 'snom', 'poly')),
  model TEXT NOT NULL,
  label TEXT NOT NULL,
  location TEXT,
  hotdesk SMALLINT NOT NULL CHECK (hotdesk IN (0, 1)),
  device_sip_user TEXT,
  device_account_enc TEXT,
  identities TEXT NOT NULL DEFAULT '[]',
  keys TEXT NOT NULL DEFAULT '[]',
  enrolled_via TEXT NOT NULL CHECK (enrolled_via IN ('directory', 'auto')),
  created_at BIGINT NOT NULL,
  prov_username TEXT NOT NULL UNIQUE,
  prov_password_enc TEXT NOT NULL,
  own_credential_used SMALLINT NOT NULL DEFAULT 0 CHECK (own_credential_used IN (0, 1)),
  screen_token TEXT NOT NULL UNIQUE,
  revision INTEGER NOT NULL DEFAULT 1,
  last_ip TEXT,
  notify_ip TEXT,
  last_user_agent TEXT,
  last_firmware TEXT,
  last_file TEXT,
  last_seen BIGINT,
  sip_port INTEGER NOT NULL DEFAULT 5060,
  sync_state TEXT NOT NULL DEFAULT 'pending' CHECK (sync_state IN ('synced', 'pending', 'unreachable')),
  sync_revision INTEGER NOT NULL DEFAULT 1,
  sync_requested_at BIGINT,
  sync_confirmed_at BIGINT,
  sync_elapsed_ms BIGINT,
  sync_attempts INTEGER NOT NULL DEFAULT 0,
  sync_next_at BIGINT
);
CREATE INDEX phones_device_sip_user ON phones (device_sip_user);
CREATE INDEX phones_sync_due ON phones (sync_state, sync_next_at) WHERE sync_state = 'pending';
CREATE TABLE sessions (
  phone_mac TEXT PRIMARY KEY REFERENCES phones (mac) ON DELETE CASCADE,
  user_ext TEXT NOT NULL REFERENCES users (ext) ON DELETE CASCADE,
  started_at BIGINT NOT NULL,
  exclusive_user TEXT CHECK (exclusive_user IS NULL OR exclusive_user = user_ext)
);
CREATE UNIQUE INDEX sessions_exclusive_user ON sessions (exclusive_user);
CREATE INDEX sessions_user ON sessions (user_ext);
CREATE TABLE lock_counters (
  scope TEXT NOT NULL CHECK (scope IN ('user', 'phone')),
  subject TEXT NOT NULL,
  failures INTEGER NOT NULL,
  window_start BIGINT NOT NULL,
  lockouts INTEGER NOT NULL,
  locked_until BIGINT NOT NULL,
  PRIMARY KEY (scope, subject)
);
CREATE TABLE pin_failures (
  scope TEXT NOT NULL CHECK (scope IN ('user', 'phone')),
  subject TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX pin_failures_subject ON pin_failures (scope, subject, at);
CREATE INDEX pin_failures_at ON pin_failures (at);
CREATE TABLE audit (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  phone_mac TEXT,
  user_ext TEXT,
  detail TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_phone ON audit (phone_mac, id);
CREATE INDEX audit_user ON audit (user_ext, id);
CREATE TABLE pnp_sightings (
  mac TEXT PRIMARY KEY,
  first_at BIGINT NOT NULL,
  at BIGINT NOT NULL,
  ip TEXT NOT NULL,
  vendor TEXT,
  model TEXT,
  count INTEGER NOT NULL DEFAULT 1,
  via TEXT NOT NULL DEFAULT 'pnp'
);
CREATE INDEX pnp_sightings_ip ON pnp_sightings (ip);
CREATE INDEX pnp_sightings_at ON pnp_sightings (at);
CREATE TABLE admins (
  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  role TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk')),
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE console_sessions (
  id_hash TEXT PRIMARY KEY,
  admin_name TEXT NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX console_sessions_admin ON console_sessions (admin_name);
CREATE TABLE hotdesk_lines (
  mac TEXT PRIMARY KEY REFERENCES phones (mac) ON DELETE CASCADE,
  username TEXT NOT NULL UNIQUE,
  password_enc TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  contact TEXT,
  address TEXT,
  port INTEGER,
  transport TEXT CHECK (transport IS NULL OR transport IN ('udp', 'tcp')),
  user_agent TEXT,
  call_id TEXT,
  cseq BIGINT,
  registered_at BIGINT,
  expires_at BIGINT
);
`,
  },
  {
    version: 2,
    name: 'several agents: audit agent, served pool, sync claims, agents, meta',
    sql: `
ALTER TABLE audit ADD COLUMN agent TEXT;
ALTER TABLE phones ADD COLUMN served_pool TEXT;
ALTER TABLE phones ADD COLUMN sync_claimed_by TEXT;
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  pool TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  seen_at BIGINT NOT NULL
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
];

/** Takes the migration lock (until the transaction ends) and makes sure `schema_migrations` exists. */
async function lockMigrations(db: PgDb): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  await db.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
}

async function versionNow(db: PgDb): Promise<number> {
  const r = await db.one<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return r?.v ?? 0;
}

/** Highest version the database has, 0 for a fresh one (creates `schema_migrations` when missing). */
export function pgSchemaVersion(db: PgDb): Promise<number> {
  return db.transaction(async () => {
    await lockMigrations(db);
    return versionNow(db);
  }, 'read committed');
}

/**
 * Applies every migration above the database's version, each in its own READ COMMITTED transaction
 * under the advisory lock (each statement then sees what a concurrent agent committed before it got
 * the lock). Returns the versions applied now (empty when the database is current). Throws
 * `storage-error` when the database is newer than this agent.
 */
export async function applyPgMigrations(db: PgDb, now: number = Date.now(), migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number[]> {
  const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const current = await pgSchemaVersion(db);
  if (current > known) {
    throw new HotdeskError('storage-error', `database schema version ${current} is newer than this agent (${known}); upgrade the agent`, { current, known });
  }
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    const done = await db.transaction(async () => {
      await lockMigrations(db);
      if ((await versionNow(db)) >= m.version) return false;
      await db.query(m.sql);
      await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
      return true;
    }, 'read committed');
    if (done) applied.push(m.version);
  }
  return applied;
}
