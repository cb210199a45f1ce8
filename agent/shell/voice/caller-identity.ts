/**
 * Who is calling the agent (docs/voice.md "Who may call"): a request on the
 * hot-desk line is digest-authenticated with the line's own credentials
 * (RFC 3261 §22.2: the agent challenges with 401 and the phone answers with
 * the line's username and password), so the agent knows which phone calls.
 * A PBX that forwards `*35…` calls (docs/pbx.md "One route") is trusted by its
 * source address (`voice.pbxAddresses`), and the phone is found from the From
 * user: a phone's device account, or the SIP account of the user logged in on
 * it.
 */
import type { SipRequest } from '../../protocols/sip-message.js';
import { getHeader, parseNameAddr, parseSipUri } from '../../protocols/sip-message.js';
import { parseDigestAuthorization, type DigestAuthority } from '../provisioning/http-digest-auth.js';
import type { StoreData } from '../../store/store-api.js';
import type { AllowList } from '../../protocols/cidr.js';

/** The caller, once known. */
export type CallerCheck =
  | { readonly kind: 'line'; readonly mac: string; readonly username: string }
  | { readonly kind: 'pbx'; readonly mac: string; readonly fromUser: string }
  /** Not authenticated yet: answer 401 with these `WWW-Authenticate` values. */
  | { readonly kind: 'challenge'; readonly headers: readonly string[] }
  /** A trusted PBX forwarded a call from nobody we know. */
  | { readonly kind: 'unknown-caller'; readonly fromUser: string };

/** What {@link identifyCaller} reads from the store. */
export type CallerStore = Pick<StoreData, 'findHotdeskLine' | 'listPhones' | 'listSessions' | 'listUsers'>;

/** The user part of the From header, or '' when there is none. */
export function fromUser(req: SipRequest): string {
  const from = parseNameAddr(getHeader(req, 'From') ?? '');
  const uri = from ? parseSipUri(from.uri) : null;
  return uri?.user ?? '';
}

/**
 * Identifies the phone behind `req` from `source` (an IP literal).
 * `pbxAddresses`: the compiled CIDR list of PBXes allowed to forward calls
 * (null when the site names none: an empty AllowList would allow everyone).
 */
export async function identifyCaller(
  req: SipRequest,
  source: string,
  o: { readonly store: CallerStore; readonly digest: DigestAuthority; readonly pbxAddresses: AllowList | null; readonly now: number },
): Promise<CallerCheck> {
  if (o.pbxAddresses?.allows(source)) {
    const user = fromUser(req);
    const mac = await phoneOfSipUser(o.store, user);
    return mac === null ? { kind: 'unknown-caller', fromUser: user } : { kind: 'pbx', mac, fromUser: user };
  }
  const creds = parseDigestAuthorization(getHeader(req, 'Authorization'));
  const challenge = (stale: boolean): CallerCheck => ({ kind: 'challenge', headers: o.digest.challenge(o.now, stale, source, ['MD5']) });
  if (!creds) return challenge(false);
  const line = await o.store.findHotdeskLine(creds.username);
  // An unknown username is answered exactly like a wrong password: a fresh challenge.
  if (!line) return challenge(false);
  const verdict = o.digest.verify(creds, req.method, req.uri, line.password, o.now, source);
  if (verdict === 'ok') return { kind: 'line', mac: line.mac, username: line.username };
  return challenge(verdict === 'stale');
}

/**
 * The phone whose device account is `user`, else the phone the user with SIP
 * account `user` is logged in on; null when none.
 */
export async function phoneOfSipUser(store: CallerStore, user: string): Promise<string | null> {
  if (user === '') return null;
  const [phones, sessions] = await Promise.all([store.listPhones(), store.listSessions()]);
  for (const p of phones) if (p.deviceAccount?.user === user) return p.mac;
  if (sessions.length === 0) return null;
  // The users in one read, not one per session.
  const users = new Map((await store.listUsers()).map((u) => [u.ext, u]));
  for (const s of sessions) if (users.get(s.userExt)?.sip.user === user) return s.phoneMac;
  return null;
}
