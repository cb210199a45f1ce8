/**
 * Phone-screen hot desking (docs/behaviour.md §2; docs/vendors.md "XML
 * browser dialects"): the agent as the phones' XML-browser server.
 * Routes live under `/xml/<mac>/<token>/` (URL scheme in
 * vendors/screens/screen-urls.ts); the per-phone token, issued in that phone's
 * own secret config file, binds the screens to the phone: changing the MAC in
 * the URL without that phone's token is refused, and refusals count towards
 * the per-source failure limit.
 *
 * Outcomes come from the same core decision as the feature code
 * (`HotdeskService.screenLogin` / `logout`), so re-provisioning, events and
 * PIN lockout are identical: an unknown short number gets the wrong-PIN
 * screen. A refused PIN (`wrong-pin`, `locked`) also counts against the
 * requesting address in the per-source failure limit.
 *
 * A Fastify plugin on `/xml/*` (GET, HEAD, POST; bodies are ignored).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import { isPinRefusal } from '../../core/hotdesk-machine.js';
import type { DeskOutcome, SiteSettings } from '../../core/model.js';
import { normalizeMac } from '../../core/model.js';
import type { StoreData } from '../../store/store-api.js';
import type { ScreenContext, VendorDriver } from '../../vendors/driver.js';
import type { HotdeskService } from '../hotdesk-service.js';
import { refuseMethod } from '../http/method-guard.js';
import { remoteAddressOf } from '../http/remote-address.js';
import type { HttpPlugin } from '../http/server.js';
import type { Logger } from '../logger.js';
import type { FailureLimiter } from '../http/rate-limiter.js';

export interface ScreenRouteDeps {
  readonly store: Pick<StoreData, 'phoneRuntime' | 'getPhone' | 'getSite' | 'sessionOf' | 'getUser'>;
  readonly service: HotdeskService;
  readonly drivers: readonly VendorDriver[];
  readonly limiter: FailureLimiter;
  readonly clock: () => number;
  readonly log: Logger;
  /** Provisioning base URL phones reach the agent on (`site.provisioning.baseUrl`, else resolved after listen). */
  readonly baseUrl: (site: SiteSettings) => string;
  readonly onCommitted?: () => void;
}

const DIGITS = /^\d{1,15}$/;

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * An outcome for input the core never saw (a short number that is not
 * digits): ask for the short number again. It names no user, so it says
 * nothing about which short numbers exist.
 */
function badInput(mac: string, message: string): DeskOutcome {
  return { code: 'ask-extension', prompt: 'ask-extension', phone: mac, message };
}

const SCREEN_METHODS = ['GET', 'HEAD', 'POST'];

/** Routes for `/xml/<mac>/<token>/...`. */
export function screenRoutes(d: ScreenRouteDeps): HttpPlugin {
  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const now = d.clock();
    const ip = remoteAddressOf(request.raw);
    if (d.limiter.blocked(ip, now)) throw new HotdeskError('rate-limited');
    const url = new URL(request.raw.url ?? '/', 'http://agent.invalid');
    const segs = url.pathname
      .split('/')
      .slice(2)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return '\0';
        }
      });
    const [rawMac = '', token = '', action = 'menu', arg] = segs;
    const mac = normalizeMac(rawMac);
    const [runtime, phone, site] = mac ? await Promise.all([d.store.phoneRuntime(mac), d.store.getPhone(mac), d.store.getSite()]) : [];
    if (!mac || !runtime || !phone || !site || !sameToken(token, runtime.screenToken)) {
      d.limiter.fail(ip, now);
      d.log.info('screen refused', { ip, code: 'screen-token-invalid' });
      throw new HotdeskError('screen-token-invalid', 'this screen does not belong to this phone');
    }
    const driver = d.drivers.find((x) => x.vendor === phone.vendor);
    if (!driver) throw new HotdeskError('internal', 'no driver');
    const tokenSeg = encodeURIComponent(runtime.screenToken);
    /** What the screen shows, read now (after an action: its outcome included), in one round. */
    const ctx = async (): Promise<ScreenContext> => {
      const [session, ...identities] = await Promise.all([d.store.sessionOf(mac), ...phone.identities.map((ext) => d.store.getUser(ext))]);
      const user = session ? (identities.find((u) => u?.ext === session.userExt) ?? (await d.store.getUser(session.userExt))) : undefined;
      return {
        baseUrl: `${d.baseUrl(site).replace(/\/+$/, '')}/xml/${mac}/${tokenSeg}`,
        phoneLabel: phone.label,
        ...(user ? { currentUser: { ext: user.ext, name: user.name } } : {}),
        identities: phone.identities.map((ext, i) => ({ ext, label: identities[i]?.name ?? ext })),
        timezone: site.timezone,
      };
    };
    const q = url.searchParams;
    const sendText = (body: string, contentType: string): FastifyReply => reply.code(200).header('Cache-Control', 'no-store').type(contentType).send(body);
    const act = async (fn: () => DeskOutcome | Promise<DeskOutcome>): Promise<FastifyReply> => {
      let outcome: DeskOutcome;
      try {
        outcome = await fn();
      } catch (e) {
        if (!isHotdeskError(e) || e.code !== 'bad-request') throw e;
        outcome = badInput(mac, e.message);
      }
      if (isPinRefusal(outcome)) d.limiter.fail(ip, now);
      d.onCommitted?.();
      const s = driver.screens.renderResult(await ctx(), outcome);
      return sendText(s.body, s.contentType);
    };
    // A phone without hot-desking (lift, canteen) shows "not allowed" instead of a menu or form (docs/behaviour.md §4).
    const notAllowed = async (): Promise<FastifyReply> => {
      const s = driver.screens.renderResult(await ctx(), {
        code: 'not-allowed',
        prompt: 'not-allowed',
        phone: mac,
        message: 'hot-desking is not enabled on this phone',
      });
      return sendText(s.body, s.contentType);
    };
    const login = (ext: string, pin: string): Promise<FastifyReply> => {
      if (!DIGITS.test(ext)) return act(() => badInput(mac, 'short number: digits only'));
      return act(() => d.service.screenLogin(mac, ext, pin));
    };

    switch (action) {
      case '':
      case 'menu': {
        if (!phone.hotdesk) return notAllowed();
        const s = driver.screens.renderMenu(await ctx());
        return sendText(s.body, s.contentType);
      }
      case 'login': {
        if (!phone.hotdesk) return notAllowed();
        const ext = arg ?? q.get('ext') ?? undefined;
        if (ext !== undefined && ext !== '') {
          if (!DIGITS.test(ext)) return act(() => badInput(mac, 'short number: digits only'));
          const s = driver.screens.renderPinForm(await ctx(), ext);
          return sendText(s.body, s.contentType);
        }
        const s = driver.screens.renderLoginForm(await ctx());
        return sendText(s.body, s.contentType);
      }
      case 'submit':
        return login(arg ?? q.get('ext') ?? '', q.get('pin') ?? '');
      case 'logout':
        return act(() => d.service.logout(mac, 'logout'));
      default:
        throw new HotdeskError('not-found', 'no such screen');
    }
  };
  return async (app) => {
    // Phones may POST their forms; the answer depends on the URL only, so bodies are read and dropped.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, _body, done) => done(null, undefined));
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: '/xml/*',
      schema: { hide: true },
      onRequest: async (request, reply) => {
        if (!SCREEN_METHODS.includes(request.method)) refuseMethod(reply, SCREEN_METHODS);
      },
      handler: async (request, reply) => handle(request, reply),
    });
  };
}
