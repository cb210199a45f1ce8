/**
 * Vendor-neutral screen wording (English) shared by the renderers.
 *
 * Pure module.
 */
import type { ScreenContext, ScreenIdentity } from '../driver.js';

/** Fixed screen strings. */
export const SCREEN_TEXT = Object.freeze({
  title: 'Hot desk',
  login: 'Log in',
  logout: 'Log out',
  ext: 'Short number',
  pin: 'PIN',
  back: 'Back to menu',
});

/** Menu title: who is logged in, or the phone's label. */
export function menuTitle(ctx: ScreenContext): string {
  return ctx.currentUser ? `${SCREEN_TEXT.title}: ${ctx.currentUser.name} (${ctx.currentUser.ext})` : `${SCREEN_TEXT.title}: ${ctx.phoneLabel}`;
}

/** Text of an identity entry. */
export function identityText(id: ScreenIdentity): string {
  return id.label !== '' && id.label !== id.ext ? `${id.label} (${id.ext})` : id.ext;
}

/** Text of the logout entry. */
export function logoutText(ctx: ScreenContext): string {
  return ctx.currentUser ? `${SCREEN_TEXT.logout} ${ctx.currentUser.name} (${ctx.currentUser.ext})` : SCREEN_TEXT.logout;
}

/**
 * Adds `items` to a document one by one while its byte length stays within
 * `limit` (Yealink: 10,000 bytes per XML object); returns the items kept.
 */
export function fitItems(render: (items: readonly string[]) => string, items: readonly string[], limit: number): string {
  let kept: string[] = [];
  for (const it of items) {
    const next = [...kept, it];
    if (utf8Length(render(next)) > limit) break;
    kept = next;
  }
  return render(kept);
}

const encoder = new TextEncoder();

/** UTF-8 byte length of `s`. */
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}
