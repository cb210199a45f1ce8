/**
 * Phone outgoing-call callbacks (docs/vendors.md "Action URLs"):
 *
 * - Yealink `action_url.outgoing_call` and Snom `action_outgoing_url`:
 *   `GET <base>/action/<mac>/<token>/outgoing?mac=$mac&remote=$remote`, where
 *   `$remote` is the dialled SIP URI (`sip:*35*101*1234@10.0.0.1`, possibly
 *   URL-encoded);
 * - Poly `apps.telNotification.URL` with `apps.telNotification.outgoingEvent`:
 *   `POST <base>/action/<mac>/<token>/poly` with an XML body
 *   `<PolycomIPPhone><OutgoingCallEvent>...<CalledPartyNumber>sip:..</CalledPartyNumber>`.
 *
 * `<token>` is the phone's screen token (store `phoneRuntime(mac).screenToken`,
 * written into the phone's own files by its driver), compared in constant
 * time. A wrong token, an unknown phone, or a MAC in the query or XML that
 * disagrees with the path is refused with `screen-token-invalid` (403), the
 * same answer for all three so MACs cannot be probed.
 *
 * Ordinary outgoing calls are not our business: 204, nothing done. Hot-desk
 * codes go through the dial dedupe (the PBX may report the same dial) and the
 * hot-desk service; the answer is 200 with the outcome code as a tiny text
 * body (phones ignore it): `wrong-pin` for an unknown short number as for a
 * wrong PIN. A refused PIN also counts against the requesting address.
 *
 * A Fastify plugin: bodies are read as text in this plugin's own context
 * (16 KiB), refusals go to the one error handler; an `onError` hook counts a
 * refused token against the requesting address and logs it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import { parseFeatureCode } from '../../core/feature-code.js';
import { isPinRefusal } from '../../core/hotdesk-machine.js';
import { normalizeMac } from '../../core/model.js';
import { constantTimeEqual } from '../api/api-auth.js';
import type { ApiDeps } from '../api/deps.js';
import { dialOnce } from '../api/dial-dedupe.js';
import { refuseMethod } from '../http/method-guard.js';
import { remoteAddressOf } from '../http/remote-address.js';
import type { HttpPlugin } from '../http/server.js';

const ACTION_RE = /^\/action\/([^/]{1,64})\/([^/]{1,256})\/(outgoing|poly)\/?$/;
/** Poly notifications are a few hundred bytes. */
const MAX_XML = 16 * 1024;

/** What a Poly telephony notification says about an outgoing call. */
export interface PolyOutgoingCall {
  readonly mac?: string;
  readonly called: string;
}

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
});

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/**
 * Parses a Poly telephony-notification body. Returns null when the body is
 * well-formed but is not an outgoing-call event (Poly also sends incoming,
 * off-hook, registration events to the same URL). Throws `bad-request` for a
 * malformed body. Some firmware sends the XML as a form field; the first
 * field holding XML is used then.
 */
export function parsePolyNotification(body: string): PolyOutgoingCall | null {
  let xml = body.trim();
  if (!xml.startsWith('<')) {
    const params = new URLSearchParams(xml);
    const found = [...params.values()].find((v) => v.trim().startsWith('<'));
    if (found === undefined) throw new HotdeskError('bad-request', 'body is not XML');
    xml = found.trim();
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new HotdeskError('bad-request', 'DTDs are not accepted');
  if (XMLValidator.validate(xml) !== true) throw new HotdeskError('bad-request', 'body is not well-formed XML');
  const doc = xmlParser.parse(xml) as Record<string, unknown>;
  const root = doc['PolycomIPPhone'];
  if (typeof root !== 'object' || root === null) return null;
  const ev = (root as Record<string, unknown>)['OutgoingCallEvent'];
  const event = Array.isArray(ev) ? ev[0] : ev;
  if (typeof event !== 'object' || event === null) return null;
  const e = event as Record<string, unknown>;
  const called = text(e['CalledPartyNumber']);
  if (called === undefined || called === '') return null;
  const mac = text(e['MACAddress']);
  return { called, ...(mac !== undefined && mac !== '' ? { mac } : {}) };
}

/** The action-URL routes. */
export function actionRoutes(deps: ApiDeps): HttpPlugin {
  /** Checks the path token; returns the phone's MAC. */
  const verify = async (rawMac: string, token: string): Promise<string> => {
    const mac = normalizeMac(rawMac);
    const rt = mac !== null ? await deps.store.phoneRuntime(mac) : undefined;
    // Compare even when the phone is unknown, so timing does not tell.
    const ok = constantTimeEqual(token, rt?.screenToken ?? '\u0000no-phone');
    if (mac === null || !rt || !ok) throw new HotdeskError('screen-token-invalid');
    return mac;
  };

  /** Refuses a MAC claimed in the query or body that is not the verified one. */
  const sameMac = (mac: string, claimedMacs: readonly (string | undefined)[]): void => {
    for (const c of claimedMacs) {
      if (c === undefined || c === '') continue;
      if (normalizeMac(c) !== mac) throw new HotdeskError('screen-token-invalid', 'the MAC in the request does not match the URL');
    }
  };

  const act = async (reply: FastifyReply, mac: string, digits: string, source: string, ip: string, now: number): Promise<FastifyReply> => {
    reply.header('Cache-Control', 'no-store');
    const code = parseFeatureCode(digits, (await deps.store.getSite()).featurePrefix);
    if (code.kind === 'not-hotdesk') return reply.code(204).send();
    const r = await dialOnce(deps, mac, digits);
    // A refused PIN also counts against the requesting address (a repeated report acted on nothing).
    if (!r.duplicate && isPinRefusal(r.value)) deps.limiter?.fail(ip, now);
    deps.log.info('phone dial', { phone: mac, source, outcome: r.value.code, duplicate: r.duplicate });
    return reply.type('text/plain; charset=utf-8').send(`${r.value.code}\n`);
  };

  /** Path parts, method and source checks shared by both kinds (before any body is read). */
  const parts = (request: FastifyRequest, reply: FastifyReply): { rawMac: string; token: string; kind: string } => {
    const path = (request.raw.url ?? '/').split('?')[0] ?? '/';
    const m = ACTION_RE.exec(path);
    if (!m) throw new HotdeskError('not-found');
    const [, rawMac = '', rawToken = '', kind = ''] = m;
    let token: string;
    try {
      token = decodeURIComponent(rawToken);
    } catch {
      token = rawToken;
    }
    const allowed = kind === 'outgoing' ? ['GET', 'POST'] : ['POST'];
    if (!allowed.includes(request.method)) refuseMethod(reply, allowed);
    return { rawMac, token, kind };
  };

  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_XML }, (_request, body, done) => done(null, body));
    // A refused token counts against the requesting address, whatever step refused it.
    app.addHook('onError', async (request, _reply, e) => {
      if (isHotdeskError(e) && e.code === 'screen-token-invalid') {
        const ip = remoteAddressOf(request.raw);
        deps.limiter?.fail(ip, deps.clock());
        deps.log.info('action url refused', { ip, code: e.code });
      }
    });
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: '/action/*',
      schema: { hide: true },
      onRequest: async (request, reply) => {
        parts(request, reply);
        if (deps.limiter?.blocked(remoteAddressOf(request.raw), deps.clock())) throw new HotdeskError('rate-limited');
      },
      handler: async (request, reply) => {
        const { rawMac, token, kind } = parts(request, reply);
        const now = deps.clock();
        const ip = remoteAddressOf(request.raw);
        const q = request.query as Record<string, string | string[] | undefined>;
        const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
        if (kind === 'outgoing') {
          const mac = await verify(rawMac, token);
          sameMac(mac, [one(q['mac'])]);
          const remote = one(q['remote']);
          if (remote === undefined || remote === '') throw new HotdeskError('bad-request', '"remote" is required');
          return act(reply, mac, remote, 'action-url', ip, now);
        }
        const mac = await verify(rawMac, token);
        const call = parsePolyNotification(typeof request.body === 'string' ? request.body : '');
        if (call === null) return reply.header('Cache-Control', 'no-store').code(204).send();
        sameMac(mac, [call.mac]);
        return act(reply, mac, call.called, 'poly-notification', ip, now);
      },
    });
  };
}
