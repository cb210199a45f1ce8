/**
 * Numbered schema migrations. Each migration runs in its own transaction
 * together with its row in `schema_migrations`, so a crash leaves the
 * database at a whole version; re-opening applies only what is missing.
 *
 * Invariants the schema enforces by itself (not only the code):
 * - one session per phone: `sessions.phone_mac` is the primary key;
 * - one session per user when the site's `multipleLogin` is `move` or
 *   `refuse`: the store writes `exclusive_user = user_ext` and a UNIQUE index
 *   on `exclusive_user` rejects a second row (under `allow` it stays NULL,
 *   and NULLs never collide in a UNIQUE index).
 */
import type Database from 'better-sqlite3';
import { HotdeskError } from '../core/errors.js';

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, in order. Append only; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE site (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL,
  secrets_enc TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE users (
  ext TEXT PRIMARY KEY CHECK (length(ext) BETWEEN 1 AND 15 AND ext NOT GLOB '*[^0-9]*'),
  name TEXT NOT NULL,
  hotdesk INTEGER NOT NULL CHECK (hotdesk IN (0, 1)),
  sip_user TEXT NOT NULL,
  sip_auth_name TEXT NOT NULL,
  sip_password_enc TEXT NOT NULL,
  display_name TEXT NOT NULL,
  outbound_caller_id TEXT,
  voicemail_number TEXT,
  pin_hash TEXT,
  pin_enc TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX users_sip_user ON users (sip_user);
CREATE TABLE phones (
  mac TEXT PRIMARY KEY CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9a-f]*'),
  vendor TEXT NOT NULL CHECK (vendor IN ('yealink', 'snom', 'poly')),
  model TEXT NOT NULL,
  label TEXT NOT NULL,
  location TEXT,
  hotdesk INTEGER NOT NULL CHECK (hotdesk IN (0, 1)),
  device_sip_user TEXT,
  device_account_enc TEXT,
  identities TEXT NOT NULL DEFAULT '[]',
  keys TEXT NOT NULL DEFAULT '[]',
  enrolled_via TEXT NOT NULL CHECK (enrolled_via IN ('directory', 'auto')),
  created_at INTEGER NOT NULL,
  prov_username TEXT NOT NULL UNIQUE,
  prov_password_enc TEXT NOT NULL,
  own_credential_used INTEGER NOT NULL DEFAULT 0 CHECK (own_credential_used IN (0, 1)),
  screen_token TEXT NOT NULL UNIQUE,
  revision INTEGER NOT NULL DEFAULT 1,
  last_ip TEXT,
  last_user_agent TEXT,
  last_firmware TEXT,
  last_file TEXT,
  last_seen INTEGER,
  sip_port INTEGER NOT NULL DEFAULT 5060,
  sync_state TEXT NOT NULL DEFAULT 'pending' CHECK (sync_state IN ('synced', 'pending', 'unreachable')),
  sync_revision INTEGER NOT NULL DEFAULT 1,
  sync_requested_at INTEGER,
  sync_confirmed_at INTEGER,
  sync_elapsed_ms INTEGER,
  sync_attempts INTEGER NOT NULL DEFAULT 0,
  sync_next_at INTEGER
);
CREATE INDEX phones_device_sip_user ON phones (device_sip_user);
CREATE TABLE sessions (
  phone_mac TEXT PRIMARY KEY REFERENCES phones (mac) ON DELETE CASCADE,
  user_ext TEXT NOT NULL REFERENCES users (ext) ON DELETE CASCADE,
  started_at INTEGER NOT NULL,
  exclusive_user TEXT CHECK (exclusive_user IS NULL OR exclusive_user = user_ext)
);
CREATE UNIQUE INDEX sessions_exclusive_user ON sessions (exclusive_user);
CREATE INDEX sessions_user ON sessions (user_ext);
CREATE TABLE lock_counters (
  scope TEXT NOT NULL CHECK (scope IN ('user', 'phone')),
  subject TEXT NOT NULL,
  failures INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  lockouts INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  PRIMARY KEY (scope, subject)
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  phone_mac TEXT,
  user_ext TEXT,
  detail TEXT
);
CREATE INDEX audit_at ON audit (at);
`,
  },
  {
    version: 2,
    name: 'pnp sightings, audit lookups',
    sql: `
CREATE TABLE pnp_sightings (
  mac TEXT PRIMARY KEY,
  first_at INTEGER NOT NULL,
  at INTEGER NOT NULL,
  ip TEXT NOT NULL,
  vendor TEXT,
  model TEXT,
  count INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX audit_phone ON audit (phone_mac, id);
CREATE INDEX audit_user ON audit (user_ext, id);
`,
  },
  {
    version: 3,
    name: 'pending-sync index',
    // The sync worker asks for due pending phones after every login: without this
    // index that is a scan of every phone (27% of CPU in a 10,000-phone login storm).
    sql: `
CREATE INDEX phones_sync_due ON phones (sync_state, sync_next_at) WHERE sync_state = 'pending';
`,
  },
  {
    version: 4,
    name: 'authenticated NOTIFY address, sightings from every channel',
    // `notify_ip` is where check-sync NOTIFYs go: only a request that proved it is the phone
    // (an authenticated fetch of its secret file) sets it. `last_ip` stays the last sighting.
    // On upgrade, keep the address of phones whose last fetch was their own secret file.
    sql: `
ALTER TABLE phones ADD COLUMN notify_ip TEXT;
UPDATE phones SET notify_ip = last_ip
  WHERE own_credential_used = 1 AND last_ip IS NOT NULL AND last_file IS NOT NULL
    AND (lower(last_file) = mac || '.cfg' OR lower(last_file) = mac || '-hotdesk.cfg' OR lower(last_file) LIKE '%-' || mac || '.htm');
ALTER TABLE pnp_sightings ADD COLUMN via TEXT NOT NULL DEFAULT 'pnp';
CREATE INDEX pnp_sightings_ip ON pnp_sightings (ip);
CREATE INDEX pnp_sightings_at ON pnp_sightings (at);
`,
  },
  {
    version: 5,
    name: 'PIN failures in a sliding window',
    // One row per recorded PIN failure, so failures are counted in a sliding window
    // (core/pin-guard.ts); lock_counters keeps only the lock history. Old counters
    // become that many failures at their window start (they expire when they used to).
    sql: `
CREATE TABLE pin_failures (
  scope TEXT NOT NULL CHECK (scope IN ('user', 'phone')),
  subject TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX pin_failures_subject ON pin_failures (scope, subject, at);
CREATE INDEX pin_failures_at ON pin_failures (at);
WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO pin_failures (scope, subject, at)
  SELECT c.scope, c.subject, c.window_start FROM lock_counters c JOIN n ON n.i <= c.failures WHERE c.window_start > 0;
DELETE FROM lock_counters WHERE lockouts = 0 AND locked_until = 0;
`,
  },
  {
    version: 6,
    name: 'web console accounts and sessions',
    // Console accounts (scrypt password hashes, never the password) and their sessions.
    // A session row is keyed by the SHA-256 of the cookie value, so a copy of the database
    // opens no session; deleting the row ends the session at once (revocable).
    sql: `
CREATE TABLE admins (
  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  role TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk')),
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE console_sessions (
  id_hash TEXT PRIMARY KEY,
  admin_name TEXT NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX console_sessions_admin ON console_sessions (admin_name);
`,
  },
  {
    version: 7,
    name: 'hot-desk line per phone',
    // Every hot-desk phone carries one extra SIP account registered to the agent (the hot-desk
    // line). Its random password is sealed with the data key, which SQL cannot do: the store
    // creates the rows of existing hot-desk phones when it opens (hotdesk-line-queries.ts).
    // Their files change (a new account), so each is bumped to a new revision and re-synced.
    sql: `
CREATE TABLE hotdesk_lines (
  mac TEXT PRIMARY KEY REFERENCES phones (mac) ON DELETE CASCADE,
  username TEXT NOT NULL UNIQUE,
  password_enc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  contact TEXT,
  address TEXT,
  port INTEGER,
  transport TEXT CHECK (transport IS NULL OR transport IN ('udp', 'tcp')),
  user_agent TEXT,
  call_id TEXT,
  cseq INTEGER,
  registered_at INTEGER,
  expires_at INTEGER
);
UPDATE phones SET revision = revision + 1, sync_state = 'pending', sync_revision = revision + 1,
  sync_requested_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000, sync_attempts = 0,
  sync_next_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE hotdesk = 1;
`,
  },
];

/** Highest version the database has, 0 for a fresh one. */
export function schemaVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Applies every migration above the database's version, each in its own
 * immediate transaction. Returns the versions applied now (empty when the
 * database is current). Throws `storage-error` when the database is newer
 * than this agent.
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, now: number = Date.now()): number[] {
  const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const current = schemaVersion(db);
  if (current > known) {
    throw new HotdeskError('storage-error', `database schema version ${current} is newer than this agent (${known}); upgrade the agent`, { current, known });
  }
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const step = db.transaction(() => {
      if (schemaVersion(db) >= m.version) return false;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now);
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return applied;
}
