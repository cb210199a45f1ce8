/**
 * What the console plugins need, and the helpers their routes share:
 * the signed-in viewer of a request, answers that work with and without
 * htmx, and the read models of phones, sessions and locks.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SiteSettings } from '../../core/model.js';
import { isLocked, lockedUntilOf, recentFailures } from '../../core/pin-guard.js';
import type { StoreData } from '../../store/store-api.js';
import type { VendorDriver } from '../../vendors/driver.js';
import type { FirmwareProfiles } from '../../vendors/firmware-profile.js';
import type { ApiDeps } from '../api/deps.js';
import type { SipAdvertised } from '../provisioning/hotdesk-line-input.js';
import type { ConsoleAuth, ConsoleSession } from './console-auth.js';
import { html, type SafeHtml } from './html.js';
import { CONSOLE_BASE, okNotice } from './layout.js';

/** The console's dependencies. */
export interface ConsoleDeps extends ApiDeps {
  /** The vendor drivers (phone detail lists files as the phones get them). */
  readonly drivers: readonly VendorDriver[];
  readonly profiles: FirmwareProfiles;
  /** Base URL the phone files point back to, for the site settings read with the page (`site.provisioning.baseUrl`, else the listener's). */
  readonly baseUrl: (site: SiteSettings) => string;
  /** Where phones register their hot-desk line, for the site settings read with the page (absent: the phone detail shows files without it). */
  readonly sipAdvertised?: (site: SiteSettings) => SipAdvertised | null;
}

/** Deps plus the auth the plugin built. */
export interface ConsoleContext extends ConsoleDeps {
  readonly auth: ConsoleAuth;
}

const sessions = new WeakMap<FastifyRequest, ConsoleSession>();

/** Records the session of a request (the session hook). */
export function setViewer(request: FastifyRequest, s: ConsoleSession): void {
  sessions.set(request, s);
}

/** The signed-in session of a request behind the session hook. */
export function viewerOf(request: FastifyRequest): ConsoleSession {
  const s = sessions.get(request);
  if (!s) throw new Error('console route without the session hook');
  return s;
}

/** True for a request htmx made (it swaps the answer into the page). */
export function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

/** Sends an HTML page or fragment. */
export function sendHtml(reply: FastifyReply, body: string | SafeHtml, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(typeof body === 'string' ? body : body.text);
}

/** Where a plain (non-htmx) form post returns to: a console path from the form, else the Referer if it is one. */
export function backTo(request: FastifyRequest, fallback: string): string {
  const body = request.body as Record<string, unknown> | undefined;
  const next = typeof body?.['next'] === 'string' ? body['next'] : undefined;
  // biome-ignore lint/complexity/useOptionalChain: a type guard must return a boolean, never undefined
  const ok = (p: string | undefined): p is string => p !== undefined && p.startsWith(`${CONSOLE_BASE}/`) && !p.startsWith('//') && !/[\r\n\\]/.test(p);
  if (ok(next)) return next;
  const ref = request.headers.referer;
  if (ref) {
    try {
      const u = new URL(ref);
      if (u.host === request.headers.host && ok(u.pathname)) return u.pathname + u.search;
    } catch {
      // not a URL: use the fallback
    }
  }
  return fallback;
}

/**
 * The answer to a console action: for htmx a notice into the flash area and a
 * `console:changed` event naming the phone (the page refreshes what shows
 * it); for a plain form a 303 back to the page.
 */
export function actionDone(request: FastifyRequest, reply: FastifyReply, message: string, fallback: string, phone?: string): FastifyReply {
  if (!isHtmx(request)) return reply.code(303).header('Location', backTo(request, fallback)).send();
  reply.header('HX-Trigger', JSON.stringify({ 'console:changed': { phone: phone ?? null } }));
  return sendHtml(reply, okNotice(message));
}

/** A phone's sync state for people: never seen, synced, pending, unreachable. */
export type DisplayState = 'synced' | 'pending' | 'unreachable' | 'never';

/** One phone as the console lists it. */
export interface PhoneRow {
  readonly mac: string;
  readonly label: string;
  readonly location: string;
  readonly vendor: string;
  readonly model: string;
  readonly firmware: string | null;
  readonly user: { readonly ext: string; readonly name: string | null; readonly since: number } | null;
  readonly identities: readonly string[];
  readonly state: DisplayState;
  /** When the current state began (request of a pending sync, confirmation of a synced one). */
  readonly stateSince: number | null;
  readonly elapsedMs: number | null;
  readonly lastSeen: number | null;
  readonly address: string | null;
  readonly revision: number;
  readonly hotdesk: boolean;
}

/** Every phone (or one) as rows. */
export async function phoneRows(store: StoreData, only?: string): Promise<PhoneRow[]> {
  const [sessionList, userList, phones] = await Promise.all([
    store.listSessions(),
    store.listUsers(),
    only !== undefined ? store.getPhone(only).then((p) => (p !== undefined ? [p] : [])) : store.listPhones(),
  ]);
  const sessions = new Map(sessionList.map((s) => [s.phoneMac, s]));
  const users = new Map(userList.map((u) => [u.ext, u]));
  const runtimes = await Promise.all(phones.map((p) => store.phoneRuntime(p.mac)));
  return phones.map((p, i) => {
    const rt = runtimes[i];
    const s = sessions.get(p.mac);
    const state: DisplayState = !rt || rt.lastSeen === null ? 'never' : rt.sync.state;
    return {
      mac: p.mac,
      label: p.label,
      location: p.location ?? '',
      vendor: p.vendor,
      model: p.model,
      firmware: rt?.lastFirmware ?? null,
      user: s ? { ext: s.userExt, name: users.get(s.userExt)?.name ?? null, since: s.startedAt } : null,
      identities: p.identities,
      state,
      stateSince: rt ? (rt.sync.state === 'synced' ? rt.sync.confirmedAt : rt.sync.requestedAt) : null,
      elapsedMs: rt?.sync.elapsedMs ?? null,
      lastSeen: rt?.lastSeen ?? null,
      address: rt?.lastIp ?? null,
      revision: rt?.revision ?? 0,
      hotdesk: p.hotdesk,
    };
  });
}

/** A PIN failure record worth showing: locked now, or failures in the window. */
export interface LockRow {
  readonly scope: 'user' | 'phone';
  readonly subject: string;
  readonly locked: boolean;
  readonly lockedUntil: number;
  readonly failures: number;
}

/** Short numbers and phones with a lock or recent PIN failures. */
export async function lockRows(store: StoreData, now: number): Promise<LockRow[]> {
  const [site, subjects] = await Promise.all([store.getSite(), store.lockSubjects(now)]);
  const policy = site.pinLockout;
  const counters = await Promise.all(subjects.map((s) => store.getLock(s.scope, s.subject)));
  const out: LockRow[] = [];
  for (const [i, s] of subjects.entries()) {
    const c = counters[i];
    if (c === undefined) continue;
    const locked = isLocked(c, policy, now);
    const failures = recentFailures(c, policy, now).length;
    if (locked || failures > 0) out.push({ scope: s.scope, subject: s.subject, locked, lockedUntil: locked ? lockedUntilOf(c, policy, now) : 0, failures });
  }
  return out;
}

/** The sync state as a badge, with a live "since" counter. */
export function stateBadge(r: Pick<PhoneRow, 'state' | 'stateSince'>): SafeHtml {
  const text = r.state === 'never' ? 'never seen' : r.state;
  return html`<span class="state state-${r.state}" data-state="${r.state}">${text}</span>${r.stateSince !== null && r.state !== 'never' ? html` <span class="muted" data-since="${r.stateSince}" data-ago></span>` : ''}`;
}
