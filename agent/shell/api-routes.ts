/**
 * The admin REST API under `/api/v1/` (token-protected, docs/api.md).
 * Described by `GET /api/v1/openapi.json` (openapi.ts);
 * documented for people in docs/api.md.
 *
 * Every endpoint except the OpenAPI document needs an API token (api-auth.ts).
 * Errors are `application/problem+json` (RFC 9457) with the stable `code`
 * (http-errors.ts). Responses never hold a secret (SIP passwords, PINs,
 * provisioning credentials, screen tokens).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HotdeskError, type ErrorCode } from '../core/errors.js';
import { normalizeMac, type AuditKind, type DeskOutcome, type Phone, type Session, type User } from '../core/model.js';
import type { Store } from '../store/store.js';
import type { PhoneRuntime, StoredAuditEvent } from '../store/store-types.js';
import type { HotdeskService } from './hotdesk-service.js';
import type { AuditTail } from './event-stream.js';
import type { Logger } from './logger.js';
import type { FailureLimiter } from './rate-limiter.js';
import type { DialDedupe } from './dial-dedupe.js';
import { authorize, bearerChallenge } from './api-auth.js';
import { readBody, sendError, sendJson } from './http-respond.js';
import type { HttpRoute } from './http-server.js';
import { AUDIT_KINDS, buildOpenApi, isAuditKind } from './openapi.js';
import { outcomeBody, PBX_DIAL_PATH } from './pbx-routes.js';
import { sightingView, type KnownModel } from './sightings.js';

/** What every entry-point factory (REST, PBX, action URLs, events) needs. */
export interface ApiDeps {
  readonly store: Store;
  readonly service: HotdeskService;
  readonly tail: AuditTail;
  readonly clock: () => number;
  readonly log: Logger;
  /** Called after any state change so the sync worker and the event tail act at once. */
  readonly onCommitted?: () => void;
  /** Per-source failure limiter shared with provisioning (wrong tokens count). */
  readonly limiter?: FailureLimiter;
  /** Dial dedupe shared by the PBX and action-URL routes (default: one per service). */
  readonly dedupe?: DialDedupe<DeskOutcome>;
  /** Resolves a sighting's model to a profiled one (accepting sightings needs it). */
  readonly knownModel?: KnownModel;
}

/** One REST endpoint: method + path template (`{mac}` = one segment). */
export interface ApiEndpoint {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
}

type Params = Readonly<Record<string, string>>;
interface Ctx {
  readonly deps: ApiDeps;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Params;
}
interface Endpoint extends ApiEndpoint {
  readonly auth: boolean;
  readonly run: (ctx: Ctx) => void | Promise<void>;
}

const API_PREFIX = '/api/';
const MAX_JSON = 16 * 1024;

/** Matches `path` against a template; returns the `{name}` segments or null. */
function matchTemplate(template: string, path: string): Record<string, string> | null {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const ts = t[i] ?? '';
    const ps = p[i] ?? '';
    if (ts.startsWith('{') && ts.endsWith('}')) {
      if (ps === '') return null;
      try {
        out[ts.slice(1, -1)] = decodeURIComponent(ps);
      } catch {
        return null;
      }
    } else if (ts !== ps) return null;
  }
  return out;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, MAX_JSON);
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HotdeskError('bad-request', 'body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HotdeskError('bad-request', 'body must be a JSON object');
  return v as Record<string, unknown>;
}

function macParam(params: Params): string {
  const mac = normalizeMac(params['mac'] ?? '');
  if (mac === null) throw new HotdeskError('bad-request', 'not a MAC address');
  return mac;
}

function intParam(url: URL, name: string, min: number, max: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new HotdeskError('bad-request', `"${name}" must be a non-negative integer`);
  const n = Number(v);
  if (n < min || n > max) throw new HotdeskError('bad-request', `"${name}" must be between ${min} and ${max}`);
  return n;
}

/** `since`: epoch ms or an ISO 8601 date-time. */
function timeParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new HotdeskError('bad-request', `"${name}" must be epoch milliseconds or an ISO 8601 date-time`);
  return t;
}

/** The secret-free view of a user. */
export function userView(u: User, phones: readonly string[]): Record<string, unknown> {
  return {
    ext: u.ext,
    name: u.name,
    hotdesk: u.hotdesk,
    sipUser: u.sip.user,
    displayName: u.sip.displayName,
    ...(u.sip.outboundCallerId !== undefined ? { outboundCallerId: u.sip.outboundCallerId } : {}),
    ...(u.sip.voicemailNumber !== undefined ? { voicemailNumber: u.sip.voicemailNumber } : {}),
    phones,
  };
}

/** The secret-free view of a phone with its runtime facts and session. */
export function phoneView(p: Phone, rt: PhoneRuntime | null, session: Session | null, user: User | null): Record<string, unknown> {
  return {
    mac: p.mac,
    vendor: p.vendor,
    model: p.model,
    label: p.label,
    ...(p.location !== undefined ? { location: p.location } : {}),
    hotdesk: p.hotdesk,
    deviceSipUser: p.deviceAccount?.user ?? null,
    identities: p.identities,
    keys: p.keys.map((k) => ({ kind: k.kind, label: k.label, ...(k.kind === 'url' ? {} : { value: k.value }), ...(k.line !== undefined ? { line: k.line } : {}) })),
    user: session ? { ext: session.userExt, name: user?.name ?? null, since: session.startedAt } : null,
    revision: rt?.revision ?? null,
    enrolledVia: rt?.enrolledVia ?? null,
    lastIp: rt?.lastIp ?? null,
    lastSeen: rt?.lastSeen ?? null,
    lastFirmware: rt?.lastFirmware ?? null,
    sync: rt
      ? {
          state: rt.sync.state,
          revision: rt.sync.revision,
          requestedAt: rt.sync.requestedAt,
          confirmedAt: rt.sync.confirmedAt,
          elapsedMs: rt.sync.elapsedMs,
          attempts: rt.sync.attempts,
        }
      : null,
  };
}

/** The JSON form of a stored audit event (also used on the WebSocket). */
export function eventView(e: StoredAuditEvent): Record<string, unknown> {
  return {
    id: e.id,
    kind: e.kind,
    at: e.at,
    ...(e.phone !== undefined && e.phone !== null ? { phone: e.phone } : {}),
    ...(e.user !== undefined && e.user !== null ? { user: e.user } : {}),
    ...(e.detail !== undefined && e.detail !== null ? { detail: e.detail } : {}),
  };
}

/** Admin outcomes that are refusals become problems with the catalog code of the same name. */
const REFUSALS: Partial<Record<DeskOutcome['code'], ErrorCode>> = {
  'unknown-user': 'unknown-user',
  'not-allowed': 'not-allowed',
  'already-logged-in': 'already-logged-in',
  locked: 'locked',
  'wrong-pin': 'wrong-pin',
};

function sendOutcome(deps: ApiDeps, res: ServerResponse, o: DeskOutcome): void {
  const refusal = REFUSALS[o.code];
  if (refusal !== undefined) throw new HotdeskError(refusal, o.message, { phone: o.phone, ...(o.user !== undefined ? { user: o.user } : {}) });
  sendJson(res, 200, outcomeBody(o, deps.store.getSite().timezone));
}

const committed = (deps: ApiDeps): void => deps.onCommitted?.();
const sessionsByMac = (store: Store): Map<string, Session> => new Map(store.listSessions().map((s) => [s.phoneMac, s]));
const userByExt = (store: Store): Map<string, User> => new Map(store.listUsers().map((u) => [u.ext, u]));

function onePhone(store: Store, mac: string): Record<string, unknown> {
  const p = store.getPhone(mac);
  if (!p) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
  const s = store.sessionOf(mac) ?? null;
  return phoneView(p, store.phoneRuntime(mac) ?? null, s, s ? (store.getUser(s.userExt) ?? null) : null);
}

function requireSession(store: Store, mac: string): void {
  if (!store.getPhone(mac)) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
  if (!store.sessionOf(mac)) throw new HotdeskError('not-logged-in');
}

/** Ends the session on the phone named by `{mac}` as an administrator (shared by POST …/logout and DELETE /sessions/{mac}). */
function adminLogout({ deps, req, res, params }: Ctx): void {
  req.resume();
  const mac = macParam(params);
  requireSession(deps.store, mac);
  const o = deps.service.logout(mac, 'admin');
  committed(deps);
  sendOutcome(deps, res, o);
}

/** The endpoint table (static: handlers get the deps in their context). */
const ENDPOINTS: readonly Endpoint[] = [
  {
    method: 'GET',
    path: '/api/v1/openapi.json',
    auth: false,
    run: ({ res }) => sendJson(res, 200, buildOpenApi()),
  },
  {
    method: 'GET',
    path: '/api/v1/events',
    auth: false,
    run: () => {
      throw new HotdeskError('bad-request', 'the event stream needs a WebSocket upgrade');
    },
  },
  {
    method: 'GET',
    path: '/api/v1/phones',
    auth: true,
    run: ({ deps: { store }, res }) => {
      const sessions = sessionsByMac(store);
      const users = userByExt(store);
      const phones = store.listPhones().map((p) => {
        const s = sessions.get(p.mac) ?? null;
        return phoneView(p, store.phoneRuntime(p.mac) ?? null, s, s ? (users.get(s.userExt) ?? null) : null);
      });
      sendJson(res, 200, { phones });
    },
  },
  { method: 'GET', path: '/api/v1/phones/{mac}', auth: true, run: ({ deps, res, params }) => sendJson(res, 200, onePhone(deps.store, macParam(params))) },
  {
    method: 'POST',
    path: '/api/v1/phones/{mac}/login',
    auth: true,
    run: async ({ deps, req, res, params }) => {
      const mac = macParam(params);
      const body = await readJson(req);
      const ext = body['ext'];
      if (typeof ext !== 'string' || !/^[0-9]{1,15}$/.test(ext)) throw new HotdeskError('bad-request', '"ext" must be a short number (digits, as a string)');
      const o = deps.service.adminLogin(mac, ext);
      committed(deps);
      sendOutcome(deps, res, o);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/phones/{mac}/logout',
    auth: true,
    run: adminLogout,
  },
  {
    method: 'POST',
    path: '/api/v1/phones/{mac}/reset-enrolment',
    auth: true,
    run: ({ deps, req, res, params }) => {
      req.resume();
      const mac = macParam(params);
      if (!deps.store.getPhone(mac)) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
      deps.store.resetEnrolment(mac);
      committed(deps);
      sendJson(res, 200, onePhone(deps.store, mac));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/users',
    auth: true,
    run: ({ deps: { store }, res }) => {
      const byUser = new Map<string, string[]>();
      for (const s of store.listSessions()) byUser.set(s.userExt, [...(byUser.get(s.userExt) ?? []), s.phoneMac]);
      sendJson(res, 200, { users: store.listUsers().map((u) => userView(u, byUser.get(u.ext) ?? [])) });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/sessions',
    auth: true,
    run: ({ deps: { store }, res }) => {
      const users = userByExt(store);
      const sessions = store.listSessions().map((s) => ({ phone: s.phoneMac, user: s.userExt, userName: users.get(s.userExt)?.name ?? null, startedAt: s.startedAt }));
      sendJson(res, 200, { sessions });
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/sessions/{mac}',
    auth: true,
    run: adminLogout,
  },
  {
    method: 'GET',
    path: '/api/v1/sightings',
    auth: true,
    run: ({ deps, res }) => sendJson(res, 200, { sightings: deps.store.listSightings().map((x) => sightingView(x, deps.knownModel ?? (() => undefined))) }),
  },
  {
    method: 'POST',
    path: '/api/v1/sightings/{mac}/accept',
    auth: true,
    run: ({ deps, req, res, params }) => {
      req.resume();
      const phone = deps.store.acceptSighting(macParam(params), deps.knownModel ?? (() => undefined), deps.clock());
      committed(deps);
      sendJson(res, 200, onePhone(deps.store, phone.mac));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/sightings/{mac}',
    auth: true,
    run: ({ deps, req, res, params }) => {
      req.resume();
      if (!deps.store.dismissSighting(macParam(params))) throw new HotdeskError('unknown-phone', 'no sighting of this MAC address');
      res.writeHead(204).end();
    },
  },
  {
    method: 'GET',
    path: '/api/v1/audit',
    auth: true,
    run: ({ deps: { store }, res, url }) => {
      const kinds = url.searchParams
        .getAll('kind')
        .flatMap((k) => k.split(','))
        .map((k) => k.trim())
        .filter((k) => k !== '');
      for (const k of kinds) if (!isAuditKind(k)) throw new HotdeskError('bad-request', `unknown event kind (known: ${AUDIT_KINDS.join(', ')})`);
      const phoneQ = url.searchParams.get('phone');
      const phone = phoneQ ? normalizeMac(phoneQ) : null;
      if (phoneQ && phone === null) throw new HotdeskError('bad-request', '"phone" is not a MAC address');
      const user = url.searchParams.get('user');
      const since = timeParam(url, 'since');
      const after = intParam(url, 'after', 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(url, 'limit', 1, 10_000) ?? 100;
      const events = store.queryAudit({
        limit,
        ...(since !== undefined ? { since } : {}),
        ...(after !== undefined ? { afterId: after } : {}),
        ...(phone ? { phone } : {}),
        ...(user ? { user } : {}),
        ...(kinds.length > 0 ? { kinds: kinds as AuditKind[] } : {}),
      });
      sendJson(res, 200, { events: events.map(eventView) });
    },
  },
];

/**
 * The admin REST routes, ending with a catch-all that answers 404 problem
 * JSON for any other path under `/api/` (except the PBX endpoint, so the
 * order against {@link createPbxRoutes} does not matter).
 */
export function createApiRoutes(deps: ApiDeps): HttpRoute[] {
  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    try {
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      const hits = ENDPOINTS.flatMap((e) => {
        const params = matchTemplate(e.path, path);
        return params ? [{ e, params }] : [];
      });
      if (hits.length === 0) {
        req.resume();
        throw new HotdeskError('not-found', 'no such API endpoint');
      }
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const hit = hits.find((h) => h.e.method === method);
      if (!hit) {
        req.resume();
        res.setHeader('Allow', [...new Set(hits.map((h) => h.e.method))].join(', '));
        throw new HotdeskError('method-not-allowed');
      }
      if (hit.e.auth) {
        try {
          authorize(deps, req, url, false);
        } catch (e) {
          req.resume();
          throw e;
        }
      }
      await hit.e.run({ deps, req, res, url, params: hit.params });
    } catch (e) {
      if (!(e instanceof HotdeskError)) throw e;
      if (e.code === 'token-required' || e.code === 'token-invalid') res.setHeader('WWW-Authenticate', bearerChallenge(e));
      sendError(res, e);
    }
  };
  return [
    {
      name: 'admin-api',
      match: (url) => (url.pathname === '/api' || url.pathname.startsWith(API_PREFIX)) && url.pathname !== PBX_DIAL_PATH,
      handle,
    },
  ];
}

/** The REST endpoints this module serves (for the OpenAPI completeness test). */
export const API_ENDPOINTS: readonly ApiEndpoint[] = ENDPOINTS.map(({ method, path }) => ({ method, path }));
