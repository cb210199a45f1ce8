/**
 * Snom minibrowser screens: `SnomIPPhoneMenu`, `SnomIPPhoneInput` (ONE
 * `InputItem` per screen, so short number and PIN take two screens;
 * `InputFlags` `n` = number, `pn` = numeric password; the phone appends
 * `?<QueryStringParam>=<value>` to `<URL>`) and `SnomIPPhoneText`
 * (Snom XML minibrowser reference; docs/vendors.md "XML browser dialects").
 *
 * Pure module.
 */
import { promptText } from '../../core/prompts.js';
import type { DeskOutcome } from '../../core/model.js';
import type { Screen, ScreenContext, ScreenRenderer } from '../driver.js';
import { xmlEscape as x } from '../xml-escape.js';
import { screenUrls } from './screen-urls.js';
import { identityText, logoutText, menuTitle, screenOutcome, SCREEN_TEXT } from './screen-text.js';

const CT = 'text/xml; charset=utf-8';
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

function item(name: string, url: string): string {
  return `  <MenuItem>\n    <Name>${x(name)}</Name>\n    <URL>${x(url)}</URL>\n  </MenuItem>\n`;
}

function input(title: string, prompt: string, url: string, param: string, flags: 'n' | 'pn'): string {
  return (
    `${HEAD}<SnomIPPhoneInput>\n  <Title>${x(title)}</Title>\n  <Prompt>${x(prompt)}</Prompt>\n  <URL>${x(url)}</URL>\n` +
    `  <InputItem>\n    <DisplayName>${x(prompt)}</DisplayName>\n    <QueryStringParam>${param}</QueryStringParam>\n    <DefaultValue></DefaultValue>\n    <InputFlags>${flags}</InputFlags>\n  </InputItem>\n</SnomIPPhoneInput>\n`
  );
}

/** Snom screen renderers. */
export const snomScreens: ScreenRenderer = Object.freeze({
  renderMenu(ctx: ScreenContext): Screen {
    const u = screenUrls(ctx.baseUrl);
    const items = [item(SCREEN_TEXT.login, u.login), ...ctx.identities.map((id) => item(identityText(id), u.pinForm(id.ext)))];
    if (ctx.currentUser) items.push(item(logoutText(ctx), u.logout));
    return { contentType: CT, body: `${HEAD}<SnomIPPhoneMenu>\n  <Title>${x(menuTitle(ctx))}</Title>\n${items.join('')}</SnomIPPhoneMenu>\n` };
  },
  /** Step 1: the short number; the phone then asks `<base>/login?ext=<ext>`, answered with the PIN form. */
  renderLoginForm(ctx: ScreenContext): Screen {
    const u = screenUrls(ctx.baseUrl);
    return { contentType: CT, body: input(SCREEN_TEXT.login, SCREEN_TEXT.ext, u.login, 'ext', 'n') };
  },
  renderPinForm(ctx: ScreenContext, ext: string): Screen {
    const u = screenUrls(ctx.baseUrl);
    return { contentType: CT, body: input(`${SCREEN_TEXT.login} ${ext}`, SCREEN_TEXT.pin, u.submitFor(ext), 'pin', 'pn') };
  },
  renderResult(ctx: ScreenContext, outcome: DeskOutcome): Screen {
    const text = promptText(screenOutcome(outcome), ctx.timezone !== undefined ? { timezone: ctx.timezone } : {});
    // Context key F1 leads back to the menu (minibrowser main subtag `SoftKeyItem`: Name, Label, URL).
    const back = `  <SoftKeyItem>\n    <Name>F1</Name>\n    <Label>${x(SCREEN_TEXT.back)}</Label>\n    <URL>${x(screenUrls(ctx.baseUrl).menu)}</URL>\n  </SoftKeyItem>\n`;
    return {
      contentType: CT,
      body: `${HEAD}<SnomIPPhoneText>\n  <Title>${x(SCREEN_TEXT.title)}</Title>\n  <Text>${x(text)}</Text>\n${back}</SnomIPPhoneText>\n`,
    };
  },
});
