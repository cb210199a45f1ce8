/**
 * Yealink XML-browser screens: `YealinkIPPhoneTextMenu`,
 * `YealinkIPPhoneInputScreen` (several `InputField`s; the phone appends
 * `?<Parameter>=<value>&...` to `<URL>` on submit) and
 * `YealinkIPPhoneTextScreen`. One object per document, at most 10,000 bytes
 * (Yealink XML Browser Developer's Guide; docs/vendors.md "XML browser dialects").
 *
 * Pure module.
 */
import { promptText } from '../../core/prompts.js';
import type { DeskOutcome } from '../../core/model.js';
import type { Screen, ScreenContext, ScreenRenderer } from '../driver.js';
import { xmlEscape as x } from '../xml-escape.js';
import { screenUrls } from './screen-urls.js';
import { fitItems, identityText, logoutText, menuTitle, screenOutcome, SCREEN_TEXT } from './screen-text.js';

/** Maximum size of one Yealink XML object. */
export const YEALINK_MAX_XML_BYTES = 10_000;
const CT = 'text/xml; charset=utf-8';
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

function item(prompt: string, uri: string): string {
  return `  <MenuItem>\n    <Prompt>${x(prompt)}</Prompt>\n    <URI>${x(uri)}</URI>\n  </MenuItem>\n`;
}

function field(prompt: string, param: string, password: boolean): string {
  return `  <InputField type="number"${password ? ' password="yes"' : ''}>\n    <Prompt>${x(prompt)}</Prompt>\n    <Parameter>${param}</Parameter>\n    <Default></Default>\n  </InputField>\n`;
}

/**
 * A custom soft key (Yealink XML Browser Developer's Guide, "Customizable Soft
 * Keys"): once an object defines soft keys the defaults are gone, so result
 * screens define both "back to menu" and the phone's own `SoftKey:Exit`.
 */
function softKey(index: number, label: string, uri: string): string {
  return `  <SoftKey index="${index}">\n    <Label>${x(label)}</Label>\n    <URI>${x(uri)}</URI>\n  </SoftKey>\n`;
}

function inputScreen(title: string, url: string, fields: string): string {
  return `${HEAD}<YealinkIPPhoneInputScreen type="number" destroyOnExit="yes">\n  <Title>${x(title)}</Title>\n  <URL>${x(url)}</URL>\n${fields}</YealinkIPPhoneInputScreen>\n`;
}

/** Yealink screen renderers. */
export const yealinkScreens: ScreenRenderer = Object.freeze({
  renderMenu(ctx: ScreenContext): Screen {
    const u = screenUrls(ctx.baseUrl);
    const fixed = [item(SCREEN_TEXT.login, u.login)];
    const tail = ctx.currentUser ? [item(logoutText(ctx), u.logout)] : [];
    const ids = ctx.identities.map((id) => item(identityText(id), u.pinForm(id.ext)));
    const doc = (kept: readonly string[]): string =>
      `${HEAD}<YealinkIPPhoneTextMenu style="numbered" destroyOnExit="yes">\n  <Title>${x(menuTitle(ctx))}</Title>\n${[...fixed, ...kept, ...tail].join('')}</YealinkIPPhoneTextMenu>\n`;
    return { contentType: CT, body: fitItems(doc, ids, YEALINK_MAX_XML_BYTES) };
  },
  renderLoginForm(ctx: ScreenContext): Screen {
    const u = screenUrls(ctx.baseUrl);
    return { contentType: CT, body: inputScreen(SCREEN_TEXT.login, u.submit, field(SCREEN_TEXT.ext, 'ext', false) + field(SCREEN_TEXT.pin, 'pin', true)) };
  },
  renderPinForm(ctx: ScreenContext, ext: string): Screen {
    const u = screenUrls(ctx.baseUrl);
    return { contentType: CT, body: inputScreen(`${SCREEN_TEXT.login} ${ext}`, u.submitFor(ext), field(SCREEN_TEXT.pin, 'pin', true)) };
  },
  renderResult(ctx: ScreenContext, outcome: DeskOutcome): Screen {
    const text = promptText(screenOutcome(outcome), ctx.timezone !== undefined ? { timezone: ctx.timezone } : {});
    return {
      contentType: CT,
      body:
        `${HEAD}<YealinkIPPhoneTextScreen destroyOnExit="yes" Timeout="10">\n  <Title>${x(SCREEN_TEXT.title)}</Title>\n  <Text>${x(text)}</Text>\n` +
        softKey(1, SCREEN_TEXT.back, screenUrls(ctx.baseUrl).menu) +
        softKey(4, SCREEN_TEXT.exit, 'SoftKey:Exit') +
        '</YealinkIPPhoneTextScreen>\n',
    };
  },
});
