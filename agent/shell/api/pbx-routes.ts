/**
 * The PBX feature-code endpoint (docs/behaviour.md §2, §8): the PBX dialplan calls it
 * with (caller, digits) and it answers with the outcome and the prompt to
 * play. Dialplan snippets: docs/pbx.md.
 *
 * `POST /api/v1/pbx/dial` (API token required) with JSON
 * `{"mac": "...", "digits": "*35*001*1234"}` or `{"caller": "<sip user>", ...}`,
 * or the same fields form-encoded (what Asterisk `CURL(url,post-data)` sends).
 *
 * Every hot-desk outcome (including wrong PIN, locked, not a hot-desk code) is
 * HTTP 200 with the outcome in the body; HTTP errors are reserved for a bad
 * request, an unknown phone and a refused token. The body never holds a PIN.
 *
 * Text form (`?format=text` or `Accept: text/plain`, for dialplans): one line
 * `<outcome>,<prompt>,<audio>,<ext>` (empty fields stay empty; no field ever
 * contains a comma), split with Asterisk `CUT(var,\,,N)`. Errors in text form
 * are `error,<code>,,` with the HTTP error status.
 *
 * A Fastify plugin: the token is checked in `onRequest` (before the body is
 * read); JSON, form-encoded (@fastify/formbody) and untyped bodies are parsed
 * in this plugin's own context and validated by the `DialRequest` schema.
 */
import formbody from '@fastify/formbody';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { HotdeskError } from '../../core/errors.js';
import { type DeskOutcome, normalizeMac } from '../../core/model.js';
import type { ApiDeps } from './deps.js';
import { AUTH_ERRORS, DialRequest, Outcome, PbxQuery, problem } from './schemas.js';
import { outcomeBody, outcomeLine } from './views.js';
import { type DedupeResult, dialOnce } from './dial-dedupe.js';
import { GroupCommit } from '../group-commit.js';
import { tokenAuth } from '../http/auth-hook.js';
import type { HttpPlugin } from '../http/server.js';

/** Path of the PBX feature-code endpoint. */
export const PBX_DIAL_PATH = '/api/v1/pbx/dial';

/** Request bodies are tiny; anything larger is refused. */
const MAX_BODY = 4 * 1024;
/** Longest accepted digits / caller field. */
const MAX_FIELD = 512;

/** Fields of a dial request. */
interface DialFields {
  readonly mac?: string;
  readonly caller?: string;
  readonly digits: string;
}

function field(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new HotdeskError('bad-request', `"${name}" must be a string`);
  if (v.length > MAX_FIELD) throw new HotdeskError('bad-request', `"${name}" is too long`);
  return v;
}

/** Parses a JSON or form-encoded body (no content type = form, as Asterisk CURL() sends). */
export function parseDialRequest(contentType: string | undefined, body: Buffer): DialFields {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let raw: Record<string, unknown>;
  if (type === 'application/json' || type.endsWith('+json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HotdeskError('bad-request', 'body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HotdeskError('bad-request', 'body must be a JSON object');
    raw = parsed as Record<string, unknown>;
  } else if (type === '' || type === 'application/x-www-form-urlencoded' || type === 'text/plain') {
    const params = new URLSearchParams(body.toString('utf8'));
    raw = {};
    for (const k of ['mac', 'caller', 'digits']) {
      const v = params.get(k);
      if (v !== null) raw[k] = v;
    }
  } else {
    throw new HotdeskError('bad-request', 'send application/json or application/x-www-form-urlencoded');
  }
  const digits = field(raw['digits'], 'digits');
  if (digits === undefined) throw new HotdeskError('bad-request', '"digits" is required');
  const mac = field(raw['mac'], 'mac');
  const caller = field(raw['caller'], 'caller');
  if (mac === undefined && caller === undefined) throw new HotdeskError('bad-request', 'give "mac" or "caller"');
  return { digits, ...(mac !== undefined ? { mac } : {}), ...(caller !== undefined ? { caller } : {}) };
}

/** True when the caller asked for the one-line text answer. */
function wantsText(request: FastifyRequest): boolean {
  const f = (request.query as { format?: unknown } | undefined)?.format ?? new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').get('format');
  if (typeof f === 'string') return f.toLowerCase() === 'text';
  const accept = (request.headers.accept ?? '').toLowerCase();
  return accept.includes('text/plain') && !accept.includes('application/json');
}

/** One group commit per store: dials arriving together share a transaction (group-commit.ts). */
const groups = new WeakMap<object, GroupCommit>();

function groupFor(store: ApiDeps['store']): GroupCommit {
  let g = groups.get(store);
  if (!g) {
    g = new GroupCommit(store);
    groups.set(store, g);
  }
  return g;
}

/**
 * Acts on a dial (deduplicated, dial-dedupe.ts); resolves once it is committed. On SQLite the
 * dial joins the current group commit; on PostgreSQL it is its own transaction. A dial whose
 * commit failed is forgotten by the dedupe, so a retry acts.
 */
function dialCommitted(deps: ApiDeps, mac: string, digits: string, prefix: string): Promise<DedupeResult<DeskOutcome>> {
  const act = deps.store.kind === 'sqlite' ? () => groupFor(deps.store).run(() => deps.service.dial(mac, digits)) : () => deps.service.dial(mac, digits);
  return dialOnce(deps, mac, digits, act, prefix);
}

/** Strips `sip:`/`sips:`, `<...>`, `@host` and parameters from a caller id. */
function callerUser(caller: string): string {
  let s = caller.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1);
  s = s.replace(/^sips?:/i, '');
  const cut = s.search(/[@;?]/);
  return (cut >= 0 ? s.slice(0, cut) : s).trim();
}

/** The PBX feature-code route. */
export function pbxApi(deps: ApiDeps): HttpPlugin {
  return async (app) => {
    // Bodies: JSON (root parser), form-encoded, and text/plain or no type parsed as a form (Asterisk CURL()).
    await app.register(formbody, { bodyLimit: MAX_BODY });
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (request, body, done) => {
      try {
        done(null, parseDialRequest(request.headers['content-type'], body as Buffer));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    app.post(
      PBX_DIAL_PATH,
      {
        bodyLimit: MAX_BODY,
        onRequest: tokenAuth(deps),
        config: { textErrors: wantsText },
        schema: {
          summary: 'Feature-code dial reported by the PBX dialplan',
          description:
            'Every hot-desk outcome is HTTP 200. With `?format=text` or `Accept: text/plain` the answer is one line `<outcome>,<prompt>,<audio>,<ext>` (errors: `error,<code>,,`). Bodies: JSON or form-encoded (no content type = form).',
          querystring: PbxQuery,
          consumes: ['application/json', 'application/x-www-form-urlencoded'],
          body: Type.Ref(DialRequest),
          response: {
            200: {
              description: 'The outcome',
              content: {
                'application/json': { schema: Type.Ref(Outcome) },
                'text/plain': { schema: Type.String({ examples: ['logged-in,logged-in,hotdesk-logged-in,101'] }) },
              },
            },
            400: problem('`bad-request`.'),
            404: problem('`unknown-phone`.'),
            413: problem('`too-large`.'),
            ...AUTH_ERRORS,
          },
        },
      },
      async (request, reply) => {
        const dial = request.body as DialFields;
        let mac: string;
        if (dial.mac !== undefined && dial.mac !== '') {
          const m = normalizeMac(dial.mac);
          if (m === null) throw new HotdeskError('bad-request', '"mac" is not a MAC address');
          mac = m;
          if (!(await deps.store.getPhone(mac))) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
        } else {
          if (dial.caller === undefined || dial.caller === '') throw new HotdeskError('bad-request', 'give "mac" or "caller"');
          const user = callerUser(dial.caller);
          if (user === '') throw new HotdeskError('bad-request', '"caller" is empty');
          const phone = await deps.store.findPhoneBySipUser(user);
          if (!phone) throw new HotdeskError('unknown-phone', 'no phone carries this SIP user');
          mac = phone.mac;
        }
        const site = await deps.store.getSite();
        const r = await dialCommitted(deps, mac, dial.digits, site.featurePrefix);
        deps.log.info('pbx dial', { phone: mac, outcome: r.value.code, duplicate: r.duplicate });
        reply.header('Cache-Control', 'no-store');
        if (wantsText(request)) return reply.type('text/plain; charset=utf-8').send(outcomeLine(r.value));
        return outcomeBody(r.value, site.timezone, r.duplicate);
      },
    );
  };
}
