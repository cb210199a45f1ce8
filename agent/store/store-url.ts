/**
 * The store setting (`--store`, `$HOTDESK_STORE`) as text: which backend it names, and the URL made
 * fit to print (a PostgreSQL URL may carry a password, which is never printed or logged).
 *
 * Pure module: the CLI reads settings with it without loading a database driver.
 */

/** True when `store` names a PostgreSQL database (`postgres://` or `postgresql://`, any case). */
export function isPostgresUrl(store: string | undefined): store is string {
  return store !== undefined && /^postgres(ql)?:\/\//i.test(store.trim());
}

/** True when `store` asks for the embedded SQLite store (absent, empty or `sqlite`). */
export function isSqliteSetting(store: string | undefined): boolean {
  return store === undefined || store.trim() === '' || store.trim().toLowerCase() === 'sqlite';
}

/**
 * `url` fit to print: the password (and any query string, which may carry one) replaced by `***`.
 * A value that does not parse as a URL is shown as its scheme only.
 */
export function redactStoreUrl(url: string): string {
  try {
    const u = new URL(url.trim());
    if (u.password !== '') u.password = '***';
    if (u.search !== '') u.search = '?***';
    return u.toString();
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1];
    return scheme !== undefined ? `${scheme}://***` : '***';
  }
}

/** `text` with every spelling of `url`'s password (and the whole URL) replaced by the redacted URL / `***`. */
export function redactInText(text: string, url: string): string {
  let out = text.split(url).join(redactStoreUrl(url));
  const trimmed = url.trim();
  if (trimmed !== url) out = out.split(trimmed).join(redactStoreUrl(url));
  try {
    const u = new URL(trimmed);
    const secrets = new Set([u.password, safeDecode(u.password), u.search.slice(1)].filter((s) => s.length > 0));
    for (const s of secrets) {
      if (!out.includes(s)) continue;
      // A very short secret cannot be cut out without garbling the text: withhold the text.
      if (s.length < 4) return 'details withheld (they may hold the store password)';
      out = out.split(s).join('***');
    }
  } catch {
    // not a URL: nothing more to find
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
