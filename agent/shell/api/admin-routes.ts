/**
 * The admin REST API under `/api/v1/` (docs/api.md), as a Fastify plugin.
 *
 * Every endpoint needs an API token (http/auth-hook.ts); errors are
 * `application/problem+json` with the stable `code` (http/error-handler.ts).
 * Answers never hold a secret (SIP passwords, PINs, provisioning
 * credentials, screen tokens): they are built by the views in views.ts and
 * serialised through the schemas in schemas.ts.
 *
 * Any other path under `/api` answers 404 `not-found`, a known path asked
 * with another method 405 with `Allow` (RFC 9110 §15.5.6).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { HotdeskError } from '../../core/errors.js';
import { AUDIT_KINDS, normalizeMac, type AuditKind, type DeskOutcome } from '../../core/model.js';
import { sightingView } from '../provisioning/sightings.js';
import { tokenAuth } from '../http/auth-hook.js';
import { GUARDED_METHODS, refuseMethod } from '../http/method-guard.js';
import type { HttpApp, HttpPlugin } from '../http/server.js';
import type { ApiDeps } from './deps.js';
import { AUTH_ERRORS, AuditEvent, AuditQuery, json, MacParams, Outcome, Phone, problem, Session, Sighting, User } from './schemas.js';
import { eventView, OUTCOME_REFUSALS, outcomeBody, phoneViews, sessionViews, storedPhoneView, userViews } from './views.js';

function macOf(raw: string): string {
  const mac = normalizeMac(raw);
  if (mac === null) throw new HotdeskError('bad-request', 'not a MAC address');
  return mac;
}

function boundedInt(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (n < min || n > max) throw new HotdeskError('bad-request', `"${name}" must be between ${min} and ${max}`);
  return n;
}

/** `since`: epoch ms or an ISO 8601 date-time. */
function timeOf(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new HotdeskError('bad-request', `"${name}" must be epoch milliseconds or an ISO 8601 date-time`);
  return t;
}

function kindsOf(q: string | string[] | undefined): AuditKind[] {
  const kinds = (q === undefined ? [] : Array.isArray(q) ? q : [q])
    .flatMap((k) => k.split(','))
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const known: readonly string[] = AUDIT_KINDS;
  for (const k of kinds) if (!known.includes(k)) throw new HotdeskError('bad-request', `unknown event kind (known: ${AUDIT_KINDS.join(', ')})`);
  return kinds as AuditKind[];
}

const REFUSALS = OUTCOME_REFUSALS;

const MAC_ERRORS = { 400: problem('Not a MAC address (`bad-request`).'), 404: problem('`unknown-phone`.') };

/**
 * Answers 404 `not-found` for paths under `/api` that no route serves, and 405
 * with `Allow` for a served path asked with another method.
 */
function apiFallback(app: HttpApp): (request: FastifyRequest, reply: FastifyReply) => Promise<never> {
  return async (request, reply) => {
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const path = (q >= 0 ? url.slice(0, q) : url).replace(/\/+$/, '');
    const allowed =
      path === '/api'
        ? []
        : GUARDED_METHODS.filter((m) => {
            const r = app.findRoute({ method: m as 'GET', url: path });
            return r !== null && !('*' in (r.params as Record<string, string>));
          });
    if (allowed.length === 0) throw new HotdeskError('not-found', 'no such API endpoint');
    refuseMethod(
      reply,
      allowed.filter((m) => m !== 'HEAD'),
    );
  };
}

/** The admin REST routes. */
export function adminApi(deps: ApiDeps): HttpPlugin {
  return async (app) => {
    const auth = tokenAuth(deps);
    const committed = (): void => deps.onCommitted?.();
    const site = async (): Promise<string> => (await deps.store.getSite()).timezone;
    const onePhone = async (mac: string) => {
      const v = await storedPhoneView(deps.store, mac);
      if (!v) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
      return v;
    };
    const outcome = async (o: DeskOutcome) => {
      const refusal = REFUSALS[o.code];
      if (refusal !== undefined) throw new HotdeskError(refusal, o.message, { phone: o.phone, ...(o.user !== undefined ? { user: o.user } : {}) });
      return outcomeBody(o, await site());
    };
    /** Ends the session on the phone as an administrator (POST …/logout and DELETE /sessions/{mac}). */
    const adminLogout = async (rawMac: string) => {
      const mac = macOf(rawMac);
      if (!(await deps.store.getPhone(mac))) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
      if (!(await deps.store.sessionOf(mac))) throw new HotdeskError('not-logged-in');
      const o = await deps.service.logout(mac, 'admin');
      committed();
      return outcome(o);
    };
    const logoutSchema = (summary: string) => ({
      summary,
      params: MacParams,
      response: { 200: json('Logged out', Type.Ref(Outcome)), ...MAC_ERRORS, 409: problem('`not-logged-in`.'), ...AUTH_ERRORS },
    });

    app.get(
      '/api/v1/phones',
      {
        onRequest: auth,
        schema: {
          summary: 'List phones with sync state, last contact and current user',
          response: { 200: json('Phones', Type.Object({ phones: Type.Array(Type.Ref(Phone)) })), ...AUTH_ERRORS },
        },
      },
      async () => ({ phones: await phoneViews(deps.store) }),
    );
    app.get(
      '/api/v1/phones/:mac',
      {
        onRequest: auth,
        schema: { summary: 'One phone', params: MacParams, response: { 200: json('The phone', Type.Ref(Phone)), ...MAC_ERRORS, ...AUTH_ERRORS } },
      },
      async (request) => onePhone(macOf(request.params.mac)),
    );
    app.post(
      '/api/v1/phones/:mac/login',
      {
        onRequest: auth,
        schema: {
          summary: 'Log a user in on a phone (no PIN; site policies apply)',
          params: MacParams,
          body: Type.Object({ ext: Type.String({ pattern: '^[0-9]{1,15}$', description: 'Short number (digits, as a string).' }) }),
          response: {
            200: json('Logged in, switched, or already logged in there (`no-change`)', Type.Ref(Outcome)),
            400: problem('`bad-request`.'),
            403: problem('`not-allowed`.'),
            404: problem('`unknown-phone` or `unknown-user`.'),
            409: problem('`already-logged-in` (policy `refuse`).'),
            ...AUTH_ERRORS,
          },
        },
      },
      async (request) => {
        const mac = macOf(request.params.mac);
        const o = await deps.service.adminLogin(mac, request.body.ext);
        committed();
        return outcome(o);
      },
    );
    app.post('/api/v1/phones/:mac/logout', { onRequest: auth, schema: logoutSchema('Log the current user out of a phone') }, async (request) =>
      adminLogout(request.params.mac),
    );
    app.post(
      '/api/v1/phones/:mac/reset-enrolment',
      {
        onRequest: auth,
        schema: {
          summary: "Forget the phone's own provisioning credential so the site bootstrap credential works again (factory-reset phone)",
          params: MacParams,
          response: { 200: json('The phone', Type.Ref(Phone)), ...MAC_ERRORS, ...AUTH_ERRORS },
        },
      },
      async (request) => {
        const mac = macOf(request.params.mac);
        if (!(await deps.store.getPhone(mac))) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
        await deps.store.resetEnrolment(mac);
        committed();
        return onePhone(mac);
      },
    );
    app.get(
      '/api/v1/users',
      {
        onRequest: auth,
        schema: { summary: 'List users (no secrets)', response: { 200: json('Users', Type.Object({ users: Type.Array(Type.Ref(User)) })), ...AUTH_ERRORS } },
      },
      async () => ({ users: await userViews(deps.store) }),
    );
    app.get(
      '/api/v1/sessions',
      {
        onRequest: auth,
        schema: {
          summary: 'List sessions (who is logged in where)',
          response: { 200: json('Sessions', Type.Object({ sessions: Type.Array(Type.Ref(Session)) })), ...AUTH_ERRORS },
        },
      },
      async () => ({ sessions: await sessionViews(deps.store) }),
    );
    app.delete('/api/v1/sessions/:mac', { onRequest: auth, schema: logoutSchema("Force logout of the phone's session") }, async (request) =>
      adminLogout(request.params.mac),
    );
    app.get(
      '/api/v1/sightings',
      {
        onRequest: auth,
        schema: {
          summary: 'Unknown phones in quarantine (made contact without proving who they are)',
          response: { 200: json('Sightings', Type.Object({ sightings: Type.Array(Type.Ref(Sighting)) })), ...AUTH_ERRORS },
        },
      },
      async () => ({ sightings: (await deps.store.listSightings()).map((x) => sightingView(x, deps.knownModel ?? (() => undefined))) }),
    );
    app.post(
      '/api/v1/sightings/:mac/accept',
      {
        onRequest: auth,
        schema: {
          summary: 'Enrol a sighted phone (hot-desk on, nobody logged in)',
          params: MacParams,
          response: { 200: json('The phone', Type.Ref(Phone)), ...MAC_ERRORS, 422: problem('`unknown-model`.'), ...AUTH_ERRORS },
        },
      },
      async (request) => {
        const phone = await deps.store.acceptSighting(macOf(request.params.mac), deps.knownModel ?? (() => undefined), deps.clock());
        committed();
        return onePhone(phone.mac);
      },
    );
    app.delete(
      '/api/v1/sightings/:mac',
      {
        onRequest: auth,
        schema: {
          summary: 'Dismiss a sighting',
          params: MacParams,
          response: { 204: { description: 'Dismissed', type: 'null' }, ...MAC_ERRORS, ...AUTH_ERRORS },
        },
      },
      async (request, reply) => {
        if (!(await deps.store.dismissSighting(macOf(request.params.mac)))) throw new HotdeskError('unknown-phone', 'no sighting of this MAC address');
        reply.code(204);
        return null;
      },
    );
    app.get(
      '/api/v1/audit',
      {
        onRequest: auth,
        schema: {
          summary: 'Query the audit log (most recent first unless `after` is given)',
          querystring: AuditQuery,
          response: { 200: json('Events', Type.Object({ events: Type.Array(Type.Ref(AuditEvent)) })), 400: problem('`bad-request`.'), ...AUTH_ERRORS },
        },
      },
      async (request) => {
        const q = request.query;
        const kinds = kindsOf(q.kind);
        const phone = q.phone ? normalizeMac(q.phone) : null;
        if (q.phone && phone === null) throw new HotdeskError('bad-request', '"phone" is not a MAC address');
        const since = timeOf(q.since, 'since');
        const after = boundedInt(q.after, 'after', 0, Number.MAX_SAFE_INTEGER);
        const limit = boundedInt(q.limit, 'limit', 1, 10_000) ?? 100;
        const events = await deps.store.queryAudit({
          limit,
          ...(since !== undefined ? { since } : {}),
          ...(after !== undefined ? { afterId: after } : {}),
          ...(phone ? { phone } : {}),
          ...(q.user ? { user: q.user } : {}),
          ...(kinds.length > 0 ? { kinds } : {}),
        });
        return { events: events.map(eventView) };
      },
    );
    const fallback = apiFallback(app);
    app.route({
      method: [...GUARDED_METHODS],
      url: '/api',
      schema: { hide: true },
      config: { guard: true },
      onRequest: fallback,
      handler: async () => undefined,
    });
    app.route({
      method: [...GUARDED_METHODS],
      url: '/api/*',
      schema: { hide: true },
      config: { guard: true },
      onRequest: fallback,
      handler: async () => undefined,
    });
  };
}
