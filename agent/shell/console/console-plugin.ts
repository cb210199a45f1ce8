/**
 * The web console under `/admin/` (docs/console.md), as one Fastify plugin:
 * static assets (its style sheet and script, htmx from the agent's own
 * node_modules: no CDN), sign-in and sign-out, the session hook, the CSRF
 * check, the live event stream (Server-Sent Events on the session cookie),
 * the HTML error answers, and the page plugins.
 *
 * Encapsulated: the cookie and form-body parsers, hooks and error handler
 * registered here apply to console routes only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HotdeskError } from '../../core/errors.js';
import { toHotdeskError } from '../http/error-handler.js';
import { remoteAddressOf } from '../http/remote-address.js';
import { HTTP_STATUS } from '../http/http-errors.js';
import type { HttpPlugin } from '../http/server.js';
import { recordRefusal } from '../api/metrics.js';
import type { StoredAuditEvent } from '../api/event-stream.js';
import { ConsoleAuth, checkCsrf, type ConsoleAuthDeps } from './console-auth.js';
import { CONSOLE_CSS, CONSOLE_JS } from './console-assets.js';
import { isHtmx, sendHtml, setViewer, viewerOf, type ConsoleContext, type ConsoleDeps } from './console-deps.js';
import { csrfTokenMatches, newToken } from './console-session.js';
import { directoryPages } from './directory-pages.js';
import { html } from './html.js';
import { barePage, CONSOLE_BASE, errorNotice, page } from './layout.js';
import { peoplePages } from './people-pages.js';
import { phonePages } from './phone-pages.js';

/** Name of the session cookie (path `/admin`, HttpOnly, SameSite=Strict, Secure under HTTPS). */
export const SESSION_COOKIE = 'hotdesk_console';
/** Name of the pre-sign-in cookie that protects the sign-in form itself. */
const LOGIN_COOKIE = 'hotdesk_signin';
/** Largest console request body (a directory file). */
const MAX_BODY = 2 * 1024 * 1024;

/** Options beyond the deps (tests shorten the session policy and limits). */
export type ConsoleOptions = Partial<Pick<ConsoleAuthDeps, 'policy' | 'accountLimit' | 'sourceLimit' | 'random'>>;

function htmxScript(): Buffer {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('htmx.org/dist/htmx.min.js'));
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

function safeNext(v: unknown): string {
  return typeof v === 'string' && v.startsWith(`${CONSOLE_BASE}/`) && !v.startsWith('//') && !/[\r\n\\]/.test(v) && !v.startsWith(`${CONSOLE_BASE}/login`)
    ? v
    : `${CONSOLE_BASE}/`;
}

function signInPage(o: { token: string; next: string; name?: string; error?: HotdeskError }): string {
  return barePage(
    'Sign in',
    html`<form class="login" method="post" action="${CONSOLE_BASE}/login">
<h1>hotdesk console</h1>
${o.error ? errorNotice(o.error) : ''}
<input type="hidden" name="_csrf" value="${o.token}"><input type="hidden" name="next" value="${o.next}">
<div><label for="name">Account</label><input id="name" name="name" autocomplete="username" required autofocus value="${o.name ?? ''}"></div>
<div><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="primary" type="submit">Sign in</button>
<p class="muted">No account yet? On the agent's host: <code>hotdesk admin add NAME --role admin</code></p>
</form>`,
  );
}

/** The console plugin. */
export function consoleRoutes(deps: ConsoleDeps, options: ConsoleOptions = {}): HttpPlugin {
  return async (app) => {
    const auth = new ConsoleAuth({ admins: deps.store, clock: deps.clock, ...options });
    const ctx: ConsoleContext = { ...deps, auth };
    const random = options.random ?? randomBytes;
    let htmx: Buffer | null = null;

    await app.register(cookie);
    await app.register(formbody, { bodyLimit: MAX_BODY });
    app.addHook('onSend', async (_request, reply, payload) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) reply.header(k, v);
      return payload;
    });
    const cookieOptions = (request: FastifyRequest, maxAge: number) =>
      ({ path: CONSOLE_BASE, httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https', maxAge }) as const;

    app.setErrorHandler((e, request, reply) =>
      answerError(toHotdeskError(e, deps.log, request), request, reply, auth, async () => (await deps.store.getSite()).name),
    );

    // ---- assets (no session needed; nothing secret) ----
    const asset = (type: string, body: () => string | Buffer) => async (_r: FastifyRequest, reply: FastifyReply) =>
      reply.header('Cache-Control', 'public, max-age=3600').type(type).send(body());
    app.get(
      `${CONSOLE_BASE}/assets/console.css`,
      { schema: { hide: true } },
      asset('text/css; charset=utf-8', () => CONSOLE_CSS),
    );
    app.get(
      `${CONSOLE_BASE}/assets/console.js`,
      { schema: { hide: true } },
      asset('text/javascript; charset=utf-8', () => CONSOLE_JS),
    );
    app.get(
      `${CONSOLE_BASE}/assets/htmx.min.js`,
      { schema: { hide: true } },
      asset('text/javascript; charset=utf-8', () => (htmx ??= htmxScript())),
    );

    // ---- sign-in ----
    app.get(`${CONSOLE_BASE}/login`, { schema: { hide: true } }, async (request, reply) => {
      if (await auth.lookup(request.cookies[SESSION_COOKIE], false)) return reply.code(303).header('Location', `${CONSOLE_BASE}/`).send();
      const token = newToken(random);
      reply.setCookie(LOGIN_COOKIE, token, cookieOptions(request, 3600));
      const next = safeNext((request.query as Record<string, unknown>)['next']);
      return sendHtml(reply, signInPage({ token, next }));
    });
    app.post(`${CONSOLE_BASE}/login`, { schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const str = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
      const next = safeNext(body['next']);
      const expected = request.cookies[LOGIN_COOKIE] ?? '';
      const token = newToken(random);
      reply.setCookie(LOGIN_COOKIE, token, cookieOptions(request, 3600));
      try {
        if (!csrfTokenMatches(expected, str('_csrf'))) throw new HotdeskError('csrf-failed', 'the sign-in form expired or came from another site');
        const { cookie: value, session } = await auth.signIn(str('name'), str('password'), remoteAddressOf(request.raw));
        deps.log.info('console sign-in', { account: session.name, role: session.role, source: remoteAddressOf(request.raw) });
        reply.clearCookie(LOGIN_COOKIE, { path: CONSOLE_BASE });
        reply.setCookie(SESSION_COOKIE, value, cookieOptions(request, auth.cookieMaxAge(session)));
        return reply.code(303).header('Location', next).send();
      } catch (e) {
        const err = toHotdeskError(e, deps.log, request);
        recordRefusal('http', err.code);
        if (err.code === 'sign-in-failed')
          deps.log.warn('console sign-in refused', { account: str('name').slice(0, 64), source: remoteAddressOf(request.raw) });
        if (err.code === 'rate-limited') reply.header('Retry-After', String(err.detail['retryAfterSeconds'] ?? 900));
        return sendHtml(reply, signInPage({ token, next, name: str('name').slice(0, 64), error: err }), HTTP_STATUS[err.code]);
      }
    });

    // ---- everything else needs a session ----
    await app.register(async (inner) => {
      inner.addHook('onRequest', async (request) => {
        const s = await auth.lookup(request.cookies[SESSION_COOKIE]);
        if (!s) throw new HotdeskError('session-required');
        setViewer(request, s);
      });
      inner.addHook('preHandler', async (request) => {
        const body = request.body as Record<string, unknown> | undefined;
        const header = request.headers['x-csrf-token'];
        checkCsrf(viewerOf(request), {
          method: request.method,
          headerToken: typeof header === 'string' ? header : undefined,
          fieldToken: typeof body?.['_csrf'] === 'string' ? (body['_csrf'] as string) : undefined,
          origin: request.headers.origin,
          referer: request.headers.referer,
          host: request.headers.host,
        });
      });
      inner.post(`${CONSOLE_BASE}/logout`, { schema: { hide: true } }, async (request, reply) => {
        await auth.signOut(request.cookies[SESSION_COOKIE]);
        reply.clearCookie(SESSION_COOKIE, { path: CONSOLE_BASE });
        if (isHtmx(request)) return reply.header('HX-Redirect', `${CONSOLE_BASE}/login`).code(204).send();
        return reply.code(303).header('Location', `${CONSOLE_BASE}/login`).send();
      });
      inner.get(`${CONSOLE_BASE}/events`, { schema: { hide: true } }, async (request, reply) => eventStream(ctx, request, reply));
      await inner.register(phonePages(ctx));
      await inner.register(peoplePages(ctx));
      await inner.register(directoryPages(ctx));
      inner.all(`${CONSOLE_BASE}/*`, { schema: { hide: true }, config: { guard: true } }, async () => {
        throw new HotdeskError('not-found', 'no such console page');
      });
    });
  };
}

/** Errors as people want them: a page, or a notice in the flash area for htmx; sign-in again for an ended session. */
async function answerError(
  err: HotdeskError,
  request: FastifyRequest,
  reply: FastifyReply,
  auth: ConsoleAuth,
  siteName: () => Promise<string>,
): Promise<FastifyReply> {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return reply;
  }
  recordRefusal('http', err.code);
  const status = HTTP_STATUS[err.code];
  if (err.code === 'session-required') {
    const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
    if (isHtmx(request)) return reply.header('HX-Redirect', `${CONSOLE_BASE}/login`).code(401).send();
    if (request.method === 'GET' && request.headers.accept?.includes('text/html'))
      return reply.code(303).header('Location', `${CONSOLE_BASE}/login${next}`).send();
    return sendHtml(reply, barePage('Sign in required', html`${errorNotice(err)}<p><a href="${CONSOLE_BASE}/login">Sign in</a></p>`), status);
  }
  if (isHtmx(request)) {
    reply.header('HX-Retarget', '#flash').header('HX-Reswap', 'innerHTML');
    return sendHtml(reply, errorNotice(err), status);
  }
  const body = html`<h1>Something went wrong</h1>${errorNotice(err)}<p><a href="${CONSOLE_BASE}/">Back to the overview</a></p>`;
  // The page frame needs the session and the site name; when the store cannot give them (it may be
  // what failed), the bare page still shows the error.
  const framed = await auth
    .lookup(request.cookies[SESSION_COOKIE], false)
    .then(async (s) => (s ? page({ title: 'Error', nav: '', viewer: s, site: await siteName(), body }) : null))
    .catch(() => null);
  return sendHtml(reply, framed ?? barePage('Error', body), status);
}

/**
 * `GET /admin/events`: every audit event as a Server-Sent Event (`event:
 * audit`, data `{id, kind, at, phone?, user?}`; no detail, which may name
 * addresses or files), so open pages refresh what changed. The session is
 * re-checked every 15 s; when it ended the stream says `signed-out` and closes.
 */
async function eventStream(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const cookieValue = request.cookies[SESSION_COOKIE];
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Content-Type-Options': 'nosniff',
  });
  res.write('retry: 3000\n\n');
  let lastSent = -1;
  const send = (e: StoredAuditEvent): void => {
    if (e.id <= lastSent) return;
    lastSent = e.id;
    const data = { id: e.id, kind: e.kind, at: e.at, ...(e.phone ? { phone: e.phone } : {}), ...(e.user ? { user: e.user } : {}) };
    res.write(`id: ${e.id}\nevent: audit\ndata: ${JSON.stringify(data)}\n\n`);
  };
  // A reconnecting browser names the last event it got: replay what it missed (bounded), then go live.
  const last = Number(request.headers['last-event-id']);
  let replaying = Number.isSafeInteger(last) && last >= 0;
  const buffered: StoredAuditEvent[] = [];
  const unsubscribe = ctx.tail.subscribe((e) => (replaying ? buffered.push(e) : send(e)));
  const server = request.server.server;
  let ticks = 0;
  const check = setInterval(() => {
    ticks++;
    // The agent is stopping (listener closed): end the stream so the drain does not wait for it.
    if (!server.listening) return void res.end();
    if (ticks % 15 !== 0) return;
    ctx.auth.lookup(cookieValue, false).then(
      (s) => {
        if (res.writableEnded) return;
        if (s) res.write(': keep-alive\n\n');
        else {
          res.write('event: signed-out\ndata: {}\n\n');
          res.end();
        }
      },
      // The store did not answer: end the stream; the browser reconnects and replays what it missed.
      () => res.end(),
    );
  }, 1000);
  const stop = (): void => {
    clearInterval(check);
    unsubscribe();
  };
  res.on('close', stop);
  if (replaying) {
    // Live events wait in `buffered` until the replay is out, so none is sent twice or out of order.
    lastSent = last;
    const missed = await ctx.store.queryAudit({ afterId: last, limit: 500 }).catch((e: unknown) => {
      ctx.log.warn('console event replay failed', { error: e instanceof Error ? e.message : String(e) });
      return null;
    });
    replaying = false;
    if (res.destroyed || res.writableEnded) return reply;
    // The store did not answer: end the stream; the browser reconnects and asks again.
    if (missed === null) {
      res.end();
      return reply;
    }
    for (const e of missed) send(e);
    for (const e of buffered.splice(0)) send(e);
  }
  return reply;
}
