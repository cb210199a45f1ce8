/**
 * The store's in-memory snapshot of phone rows (used by Store): the hot
 * provisioning path reads a phone's directory fields, revision and credential
 * on every request, and the store is their only writer in this process, so a
 * row read once stays exact until the store writes it.
 *
 * Exactness rules (kept by store.ts): a write to `phones` through the store
 * forgets the row it names or, for any other statement, the whole snapshot;
 * rows read inside a transaction are never kept (a rollback would leave them
 * wrong); a commit by another process (SQLite `PRAGMA data_version`, checked
 * on every read) drops everything. Derived objects (the decrypted phone and
 * provisioning password) are kept with their row.
 */
import type Database from 'better-sqlite3';
import type { Phone } from '../core/model.js';
import { open } from './secret-box.js';
import type { PhoneRow } from './store-rows.js';
import { phoneFromRow, runtimeFromRow } from './store-rows.js';
import type { PhoneRuntime } from './store-types.js';

interface Entry {
  row: PhoneRow;
  phone: Phone | undefined;
  runtime: PhoneRuntime | undefined;
  /** `prov_password_enc` decrypted, with the ciphertext it came from. */
  password: { readonly enc: string; readonly clear: string } | undefined;
}

/** Most rows kept (a larger office simply reads the rest from SQLite). */
const MAX_ROWS = 100_000;

/** Phone rows by normalized MAC, with their decrypted forms. */
export class PhoneSnapshot {
  private readonly rows = new Map<string, Entry>();
  private readonly read: Database.Statement;

  /**
   * @param db the store's database (rows are read with one prepared statement)
   * @param key the 32-byte data key
   */
  constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
  ) {
    this.read = db.prepare('SELECT * FROM phones WHERE mac = ?');
  }

  private entry(mac: string): Entry | undefined {
    const e = this.rows.get(mac);
    if (e !== undefined) return e;
    const row = this.read.get(mac) as PhoneRow | undefined;
    if (row === undefined) return undefined;
    const fresh: Entry = { row, phone: undefined, runtime: undefined, password: undefined };
    // Inside a transaction the row may hold uncommitted changes: serve it, do not keep it.
    if (!this.db.inTransaction && this.rows.size < MAX_ROWS) this.rows.set(mac, fresh);
    return fresh;
  }

  /** The raw row of phone `mac` (normalized), or undefined. Do not modify it. */
  row(mac: string): PhoneRow | undefined {
    return this.entry(mac)?.row;
  }

  /** The phone (device account decrypted once per row). */
  phone(mac: string): Phone | undefined {
    const e = this.entry(mac);
    if (e === undefined) return undefined;
    e.phone ??= phoneFromRow(this.key, e.row);
    return e.phone;
  }

  /** The runtime facts (provisioning password decrypted once per credential). */
  runtime(mac: string): PhoneRuntime | undefined {
    const e = this.entry(mac);
    if (e === undefined) return undefined;
    if (e.runtime === undefined) {
      const enc = e.row.prov_password_enc;
      if (e.password?.enc !== enc) e.password = { enc, clear: open(this.key, enc) };
      e.runtime = runtimeFromRow(this.key, e.row, e.password.clear);
    }
    return e.runtime;
  }

  /** Replaces a kept row with `row` (a write the store applies in memory before it is committed). */
  update(mac: string, row: PhoneRow): void {
    const e = this.rows.get(mac);
    if (e === undefined) return;
    e.row = row;
    e.runtime = undefined;
  }

  /** True when the row of `mac` is kept. */
  has(mac: string): boolean {
    return this.rows.has(mac);
  }

  /** Forgets one row (the store wrote it). */
  forget(mac: string): void {
    this.rows.delete(mac);
  }

  /** Forgets every row. */
  clear(): void {
    this.rows.clear();
  }
}
