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
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { HotdeskError } from '../core/errors.js';
import { parseFeatureCode } from '../core/feature-code.js';
import { isPinRefusal } from '../core/hotdesk-machine.js';
import { normalizeMac } from '../core/model.js';
import { constantTimeEqual } from './api-auth.js';
import type { ApiDeps } from './api-routes.js';
import { dialOnce } from './dial-dedupe.js';
import { readBody, sendError, sendText } from './http-respond.js';
import type { HttpRoute } from './http-server.js';
import { remoteAddressOf } from './provisioning-http.js';

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
export function createActionRoutes(deps: ApiDeps): HttpRoute[] {
  /** Checks the path token; returns the phone's MAC. */
  const verify = (rawMac: string, token: string, claimedMacs: readonly (string | undefined)[]): string => {
    const mac = normalizeMac(rawMac);
    const rt = mac !== null ? deps.store.phoneRuntime(mac) : undefined;
    // Compare even when the phone is unknown, so timing does not tell.
    const ok = constantTimeEqual(token, rt?.screenToken ?? '\u0000no-phone');
    if (mac === null || !rt || !ok) throw new HotdeskError('screen-token-invalid');
    for (const c of claimedMacs) {
      if (c === undefined || c === '') continue;
      if (normalizeMac(c) !== mac) throw new HotdeskError('screen-token-invalid', 'the MAC in the request does not match the URL');
    }
    return mac;
  };

  const act = (res: ServerResponse, mac: string, digits: string, source: string, ip: string, now: number): void => {
    const code = parseFeatureCode(digits, deps.store.getSite().featurePrefix);
    if (code.kind === 'not-hotdesk') {
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    const r = dialOnce(deps, mac, digits);
    // A refused PIN also counts against the requesting address (a repeated report acted on nothing).
    if (!r.duplicate && isPinRefusal(r.value)) deps.limiter?.fail(ip, now);
    deps.log.info('phone dial', { phone: mac, source, outcome: r.value.code, duplicate: r.duplicate });
    sendText(res, 200, `${r.value.code}\n`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    try {
      const m = ACTION_RE.exec(url.pathname);
      if (!m) {
        req.resume();
        throw new HotdeskError('not-found');
      }
      const [, rawMac = '', rawToken = '', kind] = m;
      let token: string;
      try {
        token = decodeURIComponent(rawToken);
      } catch {
        token = rawToken;
      }
      const now = deps.clock();
      const ip = remoteAddressOf(req);
      if (deps.limiter?.blocked(ip, now)) {
        req.resume();
        throw new HotdeskError('rate-limited');
      }
      try {
        if (kind === 'outgoing') {
          req.resume();
          if (req.method !== 'GET' && req.method !== 'POST') {
            res.setHeader('Allow', 'GET, POST');
            throw new HotdeskError('method-not-allowed');
          }
          const mac = verify(rawMac, token, [url.searchParams.get('mac') ?? undefined]);
          const remote = url.searchParams.get('remote');
          if (remote === null || remote === '') throw new HotdeskError('bad-request', '"remote" is required');
          return act(res, mac, remote, 'action-url', ip, now);
        }
        if (req.method !== 'POST') {
          req.resume();
          res.setHeader('Allow', 'POST');
          throw new HotdeskError('method-not-allowed');
        }
        const pathMac = verify(rawMac, token, []);
        const call = parsePolyNotification((await readBody(req, MAX_XML)).toString('utf8'));
        if (call === null) {
          res.writeHead(204, { 'Cache-Control': 'no-store' });
          res.end();
          return;
        }
        const mac = verify(rawMac, token, [call.mac]);
        if (mac !== pathMac) throw new HotdeskError('screen-token-invalid');
        return act(res, mac, call.called, 'poly-notification', ip, now);
      } catch (e) {
        if (e instanceof HotdeskError && e.code === 'screen-token-invalid') {
          deps.limiter?.fail(ip, now);
          deps.log.info('action url refused', { ip, code: e.code });
        }
        throw e;
      }
    } catch (e) {
      if (!(e instanceof HotdeskError)) throw e;
      sendError(res, e);
    }
  };

  return [{ name: 'action-url', match: (url) => url.pathname.startsWith('/action/'), handle }];
}
