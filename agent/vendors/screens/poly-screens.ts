/**
 * Poly VVX microbrowser pages: strict XHTML 1.0 (every element closed),
 * forms submitted with GET so the fields arrive as `?ext=..&pin=..`
 * (Poly UC Software Administrator Guide, "Microbrowser"; docs/vendors.md).
 *
 * Pure module.
 */
import { promptText } from '../../core/prompts.js';
import type { DeskOutcome } from '../../core/model.js';
import type { Screen, ScreenContext, ScreenRenderer } from '../driver.js';
import { xmlEscape as x } from '../xml-escape.js';
import { screenUrls } from './screen-urls.js';
import { identityText, logoutText, menuTitle, screenOutcome, SCREEN_TEXT } from './screen-text.js';

const CT = 'text/html; charset=utf-8';

function page(title: string, body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n' +
    `<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n<title>${x(title)}</title>\n</head>\n<body>\n${body}</body>\n</html>\n`
  );
}

function link(text: string, href: string): string {
  return `<p><a href="${x(href)}">${x(text)}</a></p>\n`;
}

function form(action: string, fields: string): string {
  return `<form method="get" action="${x(action)}">\n${fields}<p><input type="submit" value="${x(SCREEN_TEXT.login)}"/></p>\n</form>\n`;
}

function textField(label: string, name: string, password: boolean): string {
  return `<p>${x(label)}<br/><input type="${password ? 'password' : 'text'}" name="${name}" value=""/></p>\n`;
}

/** Poly screen renderers. */
export const polyScreens: ScreenRenderer = Object.freeze({
  renderMenu(ctx: ScreenContext): Screen {
    const u = screenUrls(ctx.baseUrl);
    let body = `<h1>${x(menuTitle(ctx))}</h1>\n${link(SCREEN_TEXT.login, u.login)}`;
    for (const id of ctx.identities) body += link(identityText(id), u.pinForm(id.ext));
    if (ctx.currentUser) body += link(logoutText(ctx), u.logout);
    return { contentType: CT, body: page(SCREEN_TEXT.title, body) };
  },
  renderLoginForm(ctx: ScreenContext): Screen {
    const u = screenUrls(ctx.baseUrl);
    const body = `<h1>${x(SCREEN_TEXT.login)}</h1>\n${form(u.submit, textField(SCREEN_TEXT.ext, 'ext', false) + textField(SCREEN_TEXT.pin, 'pin', true))}`;
    return { contentType: CT, body: page(SCREEN_TEXT.title, body) };
  },
  renderPinForm(ctx: ScreenContext, ext: string): Screen {
    const u = screenUrls(ctx.baseUrl);
    const body = `<h1>${x(`${SCREEN_TEXT.login} ${ext}`)}</h1>\n${form(u.submitFor(ext), textField(SCREEN_TEXT.pin, 'pin', true))}`;
    return { contentType: CT, body: page(SCREEN_TEXT.title, body) };
  },
  renderResult(ctx: ScreenContext, outcome: DeskOutcome): Screen {
    const text = promptText(screenOutcome(outcome), ctx.timezone !== undefined ? { timezone: ctx.timezone } : {});
    const body = `<h1>${x(SCREEN_TEXT.title)}</h1>\n<p>${x(text)}</p>\n${link(SCREEN_TEXT.back, screenUrls(ctx.baseUrl).menu)}`;
    return { contentType: CT, body: page(SCREEN_TEXT.title, body) };
  },
});
