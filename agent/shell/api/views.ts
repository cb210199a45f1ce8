/**
 * The one serializer per view: how a phone, user, session, audit event and
 * hot-desk outcome look to the outside (REST API, PBX endpoint, event stream,
 * CLI `--json`). Views never hold a secret: no SIP password, PIN,
 * provisioning credential or screen token. Types come from the schemas
 * (schemas.ts), so a view cannot drift from what the API document says.
 */
import type { ErrorCode } from '../../core/errors.js';
import type { DeskOutcome, Phone, Session, User } from '../../core/model.js';
import { PROMPTS, promptText } from '../../core/prompts.js';
import type { StoreData } from '../../store/store-api.js';
import type { LineRegistrationEntry, PhoneRuntime, StoredAuditEvent } from '../../store/store-types.js';
import type { AuditEventView, OutcomeView, PhoneView, SessionView, UserView } from './schemas.js';

/** The secret-free view of a user, with the phones the user is logged in on. */
export function userView(u: User, phones: readonly string[]): UserView {
  return {
    ext: u.ext,
    name: u.name,
    hotdesk: u.hotdesk,
    sipUser: u.sip.user,
    displayName: u.sip.displayName,
    ...(u.sip.outboundCallerId !== undefined ? { outboundCallerId: u.sip.outboundCallerId } : {}),
    ...(u.sip.voicemailNumber !== undefined ? { voicemailNumber: u.sip.voicemailNumber } : {}),
    phones: [...phones],
  };
}

/** Every user's view (phones from the current sessions). */
export async function userViews(store: StoreData): Promise<UserView[]> {
  const [sessions, users] = await Promise.all([store.listSessions(), store.listUsers()]);
  const byUser = new Map<string, string[]>();
  for (const s of sessions) byUser.set(s.userExt, [...(byUser.get(s.userExt) ?? []), s.phoneMac]);
  return users.map((u) => userView(u, byUser.get(u.ext) ?? []));
}

/** The secret-free view of a phone with its runtime facts and session. */
export function phoneView(p: Phone, rt: PhoneRuntime | null, session: Session | null, user: User | null, line: LineRegistrationEntry | null = null): PhoneView {
  return {
    mac: p.mac,
    vendor: p.vendor,
    model: p.model,
    label: p.label,
    ...(p.location !== undefined ? { location: p.location } : {}),
    hotdesk: p.hotdesk,
    deviceSipUser: p.deviceAccount?.user ?? null,
    identities: [...p.identities],
    keys: p.keys.map((k) => ({
      kind: k.kind,
      label: k.label,
      ...(k.kind === 'url' ? {} : { value: k.value }),
      ...(k.line !== undefined ? { line: k.line } : {}),
    })),
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
    hotdeskLine: line ? lineView(line, Date.now()) : null,
  };
}

/** A hot-desk line's registration as shown to admins (a lapsed binding counts as not registered). */
export function lineView(e: LineRegistrationEntry, now: number): NonNullable<PhoneView['hotdeskLine']> {
  const r = e.registration !== null && e.registration.expiresAt > now ? e.registration : null;
  return {
    username: e.username,
    registered: r !== null,
    address: r?.address ?? null,
    port: r?.port ?? null,
    userAgent: r?.userAgent ?? null,
    registeredAt: r?.registeredAt ?? null,
    expiresAt: r?.expiresAt ?? null,
  };
}

/** The view of one phone from the store, or undefined when unknown. */
export async function storedPhoneView(store: StoreData, mac: string): Promise<PhoneView | undefined> {
  const p = await store.getPhone(mac);
  if (!p) return undefined;
  const [session, line, rt] = await Promise.all([store.sessionOf(mac), store.getHotdeskLine(mac), store.phoneRuntime(mac)]);
  const s = session ?? null;
  const entry = line ? { mac, username: line.username, registration: line.registration } : null;
  return phoneView(p, rt ?? null, s, s ? ((await store.getUser(s.userExt)) ?? null) : null, entry);
}

/** Every phone's view, in store order. */
export async function phoneViews(store: StoreData): Promise<PhoneView[]> {
  const [sessionList, userList, lineList, phones] = await Promise.all([
    store.listSessions(),
    store.listUsers(),
    store.listLineRegistrations(),
    store.listPhones(),
  ]);
  const sessions = new Map(sessionList.map((s) => [s.phoneMac, s]));
  const users = new Map(userList.map((u) => [u.ext, u]));
  const lines = new Map(lineList.map((e) => [e.mac, e]));
  const runtimes = await Promise.all(phones.map((p) => store.phoneRuntime(p.mac)));
  return phones.map((p, i) => {
    const s = sessions.get(p.mac) ?? null;
    return phoneView(p, runtimes[i] ?? null, s, s ? (users.get(s.userExt) ?? null) : null, lines.get(p.mac) ?? null);
  });
}

/** Every session's view. */
export async function sessionViews(store: StoreData): Promise<SessionView[]> {
  const [userList, sessions] = await Promise.all([store.listUsers(), store.listSessions()]);
  const users = new Map(userList.map((u) => [u.ext, u]));
  const phones = await Promise.all(sessions.map((s) => store.getPhone(s.phoneMac)));
  return sessions.map((s, i) => ({
    phone: s.phoneMac,
    phoneLabel: phones[i]?.label ?? null,
    user: s.userExt,
    userName: users.get(s.userExt)?.name ?? null,
    startedAt: s.startedAt,
  }));
}

/** The JSON form of a stored audit event (REST and the WebSocket). */
export function eventView(e: StoredAuditEvent): AuditEventView {
  return {
    id: e.id,
    kind: e.kind,
    at: e.at,
    ...(e.phone !== undefined && e.phone !== null ? { phone: e.phone } : {}),
    ...(e.user !== undefined && e.user !== null ? { user: e.user } : {}),
    ...(e.detail !== undefined && e.detail !== null ? { detail: e.detail as Record<string, unknown> } : {}),
    ...(e.agent !== undefined ? { agent: e.agent } : {}),
  };
}

/** The JSON answer for an outcome (PBX endpoint, admin login/logout, CLI). Never holds a PIN: outcomes carry none. */
export function outcomeBody(o: DeskOutcome, timezone?: string, duplicate?: boolean): OutcomeView {
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

/** The one-line text answer for dialplans: `<outcome>,<prompt>,<audio>,<ext>` (no field holds a comma). */
export function outcomeLine(o: DeskOutcome): string {
  const audio = o.prompt === null ? '' : (PROMPTS[o.prompt]?.audio ?? '');
  return [o.code, o.prompt ?? '', audio, o.user ?? ''].map((f) => f.replace(/[,\r\n]/g, '')).join(',');
}

/** Desk outcomes that are refusals, as the catalogue error code of the same name (admin API and console). */
export const OUTCOME_REFUSALS: Partial<Record<DeskOutcome['code'], ErrorCode>> = {
  'unknown-user': 'unknown-user',
  'not-allowed': 'not-allowed',
  'already-logged-in': 'already-logged-in',
  locked: 'locked',
  'wrong-pin': 'wrong-pin',
};
