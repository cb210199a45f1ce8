/**
 * The console's page frame (navigation, signed-in account, sign-out, live
 * indicator, flash area) and the notices that show errors as a person wants
 * them: the coded error's title and what to do, never raw JSON.
 */
import { ERROR_CATALOG, type ErrorCode, type HotdeskError } from '../../core/errors.js';
import { html, type SafeHtml } from './html.js';
import type { ConsoleRole } from './roles.js';

/** Where the console lives. */
export const CONSOLE_BASE = '/admin';

/** The signed-in person a page is rendered for. */
export interface Viewer {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly csrfToken: string;
}

const NAV: readonly { readonly id: string; readonly label: string; readonly href: string }[] = [
  { id: 'overview', label: 'Overview', href: `${CONSOLE_BASE}/` },
  { id: 'phones', label: 'Phones', href: `${CONSOLE_BASE}/phones` },
  { id: 'people', label: 'People', href: `${CONSOLE_BASE}/people` },
  { id: 'directory', label: 'Directory', href: `${CONSOLE_BASE}/directory` },
  { id: 'audit', label: 'Audit', href: `${CONSOLE_BASE}/audit` },
];

/** What to do about an error, per code (the title comes from the catalogue). */
const ADVICE: Partial<Record<ErrorCode, string>> = {
  'session-required': 'Sign in again: your session ended (idle too long, signed out elsewhere, or the account was removed).',
  'sign-in-failed': 'Check the account name and password. After five wrong tries the account is paused for a while.',
  'rate-limited': 'Too many wrong tries: wait a few minutes before trying again.',
  'csrf-failed': 'Reload the page and repeat the action. If it keeps failing, sign out and in again.',
  'role-forbidden': 'Ask a console administrator to do this, or to give your account the admin role.',
  'unknown-user': 'Check the short number: no user has it in the directory.',
  'unknown-phone': 'The phone is not (or no longer) in the directory: reload the list.',
  'already-logged-in': 'The site allows one phone per user: log the user out of the other phone first.',
  'not-allowed': 'Hot-desking is off for this user or this phone (see the directory).',
  'not-logged-in': 'Nobody is logged in on this phone any more: reload to see the current state.',
  conflict: 'Someone changed the same thing at the same moment: reload and try again.',
  'directory-invalid': 'Fix the lines listed and upload the file again; nothing was applied.',
  'yaml-syntax': 'Fix the YAML at the line shown and upload again; nothing was applied.',
  'unknown-model': 'Use a model with a firmware profile (see docs/firmware-profiles.md); nothing was applied.',
  'too-many-keys': 'Remove keys from the phone at the line shown; nothing was applied.',
  'bad-request': 'Check the values entered and try again.',
  'too-large': 'The file is too large for the console: import it with `hotdesk import` instead.',
  internal: 'Something unexpected failed on the agent: the log has the details.',
  'storage-error': 'The database failed: check the disk and the agent log.',
  'store-unavailable': 'The shared database does not answer: nothing was changed. Try again in a moment; if it lasts, check the database server.',
};

/** A notice for a coded error: title, the specific message, what to do. */
export function errorNotice(err: HotdeskError): SafeHtml {
  const message = err.code === 'internal' ? '' : err.message !== ERROR_CATALOG[err.code] ? err.message : '';
  return html`<div class="notice error" role="alert" data-code="${err.code}">
<h2>${ERROR_CATALOG[err.code]}</h2>
${message ? html`<p>${message}</p>` : ''}
<p>${ADVICE[err.code] ?? 'Try again; if it keeps failing, the agent log has the details.'}</p>
<p class="muted">Error code: <code>${err.code}</code></p>
</div>`;
}

/** A success notice. */
export function okNotice(text: string | SafeHtml): SafeHtml {
  return html`<div class="notice ok" role="status">${text}</div>`;
}

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(v: Viewer): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${v.csrfToken}">`;
}

function head(title: string): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true,"error":true}]}'>
<title>${title} · hotdesk console</title>
<link rel="stylesheet" href="${CONSOLE_BASE}/assets/console.css">
<script src="${CONSOLE_BASE}/assets/htmx.min.js" defer></script>
<script src="${CONSOLE_BASE}/assets/console.js" defer></script>
</head>`;
}

/** A full page for a signed-in viewer. */
export function page(o: { title: string; nav: string; viewer: Viewer; site: string; body: SafeHtml; live?: boolean }): string {
  const v = o.viewer;
  return html`${head(o.title)}
<body hx-headers='${JSON.stringify({ 'X-CSRF-Token': v.csrfToken })}'>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">hotdesk · ${o.site}</span>
<nav aria-label="Console"><ul>${NAV.map((n) => html`<li><a href="${n.href}"${n.id === o.nav ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>
<div class="who">${o.live ? html`<span id="live" class="live" data-events="${CONSOLE_BASE}/events" data-login="${CONSOLE_BASE}/login" aria-live="polite">connecting</span>` : ''}
<span>${v.name} <span class="muted">(${v.role})</span></span>
<form method="post" action="${CONSOLE_BASE}/logout">${csrfField(v)}<button type="submit">Sign out</button></form></div>
</header>
<main id="main">
<div id="flash" class="flash" aria-live="assertive"></div>
${o.body}
</main>
</body></html>`.text;
}

/** A page without the signed-in frame (sign-in, errors before sign-in). */
export function barePage(title: string, body: SafeHtml): string {
  return html`${head(title)}<body><main id="main">${body}</main></body></html>`.text;
}

/** Epoch ms as a local date-time for people (ISO-like, to the second). */
export function when(ms: number | null | undefined, timeZone?: string): string {
  if (ms === null || ms === undefined) return '—';
  try {
    return new Date(ms).toLocaleString('sv-SE', { timeZone, hour12: false });
  } catch {
    return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  }
}

/** A MAC as people write it (`00:15:65:aa:bb:01`). */
export function macText(mac: string): string {
  return mac.match(/../g)?.join(':') ?? mac;
}
