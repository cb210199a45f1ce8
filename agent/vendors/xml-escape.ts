/**
 * XML text and attribute escaping (`& < > " '`), used by the template engine's
 * `xml` output format and by the screen renderers (XML 1.0 §2.4, §3.3.3).
 * Characters XML 1.0 forbids (C0 controls other than TAB, LF, CR) are dropped.
 *
 * Pure module.
 */

/** Escapes `s` for XML text or a double- or single-quoted attribute. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}
