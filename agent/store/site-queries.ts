/**
 * The site settings row in SQLite (used by Store): one row (`id = 1`) with
 * the settings as JSON and the secrets (bootstrap password, API tokens)
 * sealed with the data key, decrypted on read and memoised.
 */
import type { SiteSettings } from '../core/model.js';
import { HotdeskError } from '../core/errors.js';
import { defaultSite } from './default-site.js';
import type { SqlFn } from './store-rows.js';
import { siteFromRow, siteToRow } from './store-rows.js';

/** Reads and writes the site row; one per store. */
export class SiteRow {
  private memo: SiteSettings | null = null;

  /**
   * @param sql the store's prepared-statement source
   * @param key the 32-byte data key
   */
  constructor(
    private readonly sql: SqlFn,
    private readonly key: Buffer,
  ) {}

  /** Inserts the default site when there is no site row yet. */
  ensure(now: number): void {
    if (this.sql('SELECT 1 FROM site WHERE id = 1').get() !== undefined) return;
    // Two processes opening a fresh store at once: the first default wins.
    const { settings, secrets } = siteToRow(this.key, defaultSite());
    this.sql('INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING').run(settings, secrets, now);
  }

  /**
   * The site settings with secrets decrypted. Decrypting and parsing costs more than the
   * lookup, so the result is kept (`keep`: never inside a transaction, which may roll back)
   * until {@link put} or {@link forget} (the store calls it when another process commits).
   */
  get(keep: boolean): SiteSettings {
    if (this.memo !== null) return this.memo;
    const r = this.sql('SELECT settings, secrets_enc FROM site WHERE id = 1').get() as { settings: string; secrets_enc: string } | undefined;
    if (!r) throw new HotdeskError('storage-error', 'site settings are missing');
    const site = siteFromRow(this.key, r.settings, r.secrets_enc);
    if (keep) this.memo = site;
    return site;
  }

  /** Drops the kept settings (the next {@link get} reads the row). */
  forget(): void {
    this.memo = null;
  }

  /** Replaces the site settings (secrets sealed). */
  put(site: SiteSettings, now: number): void {
    this.memo = null;
    const { settings, secrets } = siteToRow(this.key, site);
    this.sql(
      'INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, secrets_enc = excluded.secrets_enc, updated_at = excluded.updated_at',
    ).run(settings, secrets, now);
  }
}
