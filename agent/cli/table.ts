/**
 * Readable CLI output: aligned text tables and times. Pure helpers.
 */

/** A table cell: printed as-is; null/undefined print as `-`. */
export type Cell = string | number | boolean | null | undefined;

function cellText(c: Cell): string {
  if (c === null || c === undefined || c === '') return '-';
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  // Control characters would break the layout (and could forge lines): show them escaped.
  return String(c).replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Formats rows as a table with a header line, columns separated by two
 * spaces, every column left-aligned and padded to its widest cell; trailing
 * spaces trimmed. An empty `rows` prints the header and `(none)`.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => headers.map((_h, i) => cellText(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(headers.map((h) => h.toUpperCase())), ...text.map(line)];
  if (rows.length === 0) out.push('(none)');
  return `${out.join('\n')}\n`;
}

/**
 * An epoch-ms time as `YYYY-MM-DD HH:MM:SS` in `timezone` (IANA), or UTC with
 * a `Z` suffix when the zone is absent or unknown. `undefined`/0 print `-`.
 */
export function formatTime(ms: number | null | undefined, timezone?: string): string {
  if (ms === null || ms === undefined || ms === 0 || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  if (timezone) {
    try {
      // sv-SE formats as ISO-like "2026-11-27 08:31:07".
      return new Intl.DateTimeFormat('sv-SE', {
        timeZone: timezone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }).format(d);
    } catch {
      // unknown zone: UTC below
    }
  }
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}
