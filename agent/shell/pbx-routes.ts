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
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HotdeskError } from '../core/errors.js';
import { normalizeMac, type DeskOutcome } from '../core/model.js';
import { PROMPTS, promptText } from '../core/prompts.js';
import { authorize, bearerChallenge } from './api-auth.js';
import type { ApiDeps } from './api-routes.js';
import { dialOnce } from './dial-dedupe.js';
import { HTTP_STATUS } from './http-errors.js';
import { readBody, sendError, sendJson, sendText } from './http-respond.js';
import type { HttpRoute } from './http-server.js';

/** Path of the PBX feature-code endpoint. */
export const PBX_DIAL_PATH = '/api/v1/pbx/dial';

/** Request bodies are tiny; anything larger is refused. */
const MAX_BODY = 4 * 1024;
/** Longest accepted digits / caller field. */
const MAX_FIELD = 512;

/** The JSON answer for one outcome (PBX endpoint and admin login/logout). */
export interface OutcomeBody {
  readonly outcome: DeskOutcome['code'];
  readonly prompt: DeskOutcome['prompt'];
  /** Audio file base name of the prompt (no directory, no extension), or null. */
  readonly audio: string | null;
  /** Short English text from the decision. */
  readonly message: string;
  /** Screen text of the prompt with placeholders filled. */
  readonly text: string;
  readonly phone: string;
  readonly user?: string;
  readonly userName?: string;
  readonly previousUser?: string;
  readonly movedFrom?: string;
  readonly attemptsLeft?: number;
  readonly lockedUntil?: number;
  /** True when this report repeated a dial already acted on (see dial-dedupe.ts). */
  readonly duplicate?: boolean;
}

/** Builds the JSON answer for `o` (never holds a PIN: outcomes carry none). */
export function outcomeBody(o: DeskOutcome, timezone?: string, duplicate?: boolean): OutcomeBody {
  return {
    outcome: o.code,
    prompt: o.prompt,
    audio: o.prompt === null ? null : (PROMPTS[o.prompt]?.audio ?? null),
    message: o.message,
    text: promptText(o, timezone !== undefined ? { timezone } : {}),
    phone: o.phone,
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.userName !== undefined ? { userName: o.userName } : {}),
    ...(o.previousUser !== undefined ? { previousUser: o.previousUser } : {}),
    ...(o.movedFrom !== undefined ? { movedFrom: o.movedFrom } : {}),
    ...(o.attemptsLeft !== undefined ? { attemptsLeft: o.attemptsLeft } : {}),
    ...(o.lockedUntil !== undefined ? { lockedUntil: o.lockedUntil } : {}),
    ...(duplicate !== undefined ? { duplicate } : {}),
  };
}

/** The one-line text answer: `<outcome>,<prompt>,<audio>,<ext>`. */
export function outcomeLine(o: DeskOutcome): string {
  const audio = o.prompt === null ? '' : (PROMPTS[o.prompt]?.audio ?? '');
  return [o.code, o.prompt ?? '', audio, o.user ?? ''].map((f) => f.replace(/[,\r\n]/g, '')).join(',');
}

/** Fields of a dial request. */
interface DialRequest {
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
export function parseDialRequest(contentType: string | undefined, body: Buffer): DialRequest {
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
function wantsText(req: IncomingMessage, url: URL): boolean {
  const f = url.searchParams.get('format');
  if (f !== null) return f.toLowerCase() === 'text';
  const accept = (req.headers.accept ?? '').toLowerCase();
  return accept.includes('text/plain') && !accept.includes('application/json');
}

/** Strips `sip:`/`sips:`, `<...>`, `@host` and parameters from a caller id. */
function callerUser(caller: string): string {
  let s = caller.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1);
  s = s.replace(/^sips?:/i, '');
  const cut = s.search(/[@;?]/);
  return (cut >= 0 ? s.slice(0, cut) : s).trim();
}

function refuse(res: ServerResponse, err: HotdeskError, text: boolean): void {
  if (err.code === 'token-required' || err.code === 'token-invalid') res.setHeader('WWW-Authenticate', bearerChallenge(err));
  if (!text) return sendError(res, err);
  sendText(res, HTTP_STATUS[err.code], `error,${err.code},,`);
}

/** The PBX routes (put them before {@link createApiRoutes}' catch-all). */
export function createPbxRoutes(deps: ApiDeps): HttpRoute[] {
  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const text = wantsText(req, url);
    try {
      if (req.method !== 'POST') {
        req.resume();
        res.setHeader('Allow', 'POST');
        throw new HotdeskError('method-not-allowed');
      }
      try {
        authorize(deps, req, url, false);
      } catch (e) {
        req.resume();
        throw e;
      }
      const dial = parseDialRequest(req.headers['content-type'], await readBody(req, MAX_BODY));
      let mac: string;
      if (dial.mac !== undefined) {
        const m = normalizeMac(dial.mac);
        if (m === null) throw new HotdeskError('bad-request', '"mac" is not a MAC address');
        mac = m;
        if (!deps.store.getPhone(mac)) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
      } else {
        const user = callerUser(dial.caller ?? '');
        if (user === '') throw new HotdeskError('bad-request', '"caller" is empty');
        const phone = deps.store.findPhoneBySipUser(user);
        if (!phone) throw new HotdeskError('unknown-phone', 'no phone carries this SIP user');
        mac = phone.mac;
      }
      const r = dialOnce(deps, mac, dial.digits);
      deps.log.info('pbx dial', { phone: mac, outcome: r.value.code, duplicate: r.duplicate });
      if (text) return sendText(res, 200, outcomeLine(r.value));
      sendJson(res, 200, outcomeBody(r.value, deps.store.getSite().timezone, r.duplicate));
    } catch (e) {
      if (!(e instanceof HotdeskError)) throw e;
      refuse(res, e, text);
    }
  };
  return [{ name: 'pbx-dial', match: (url) => url.pathname === PBX_DIAL_PATH, handle }];
}
