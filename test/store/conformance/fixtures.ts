/**
 * The small site the conformance cases start from, written through the store contract only (so it
 * means the same on every backend): five users (one without a PIN), three hot-desk phones and a lift
 * phone with a device account.
 */
import type { Phone, User } from '../../../agent/core/model.js';
import type { StoreApi } from '../../../agent/store/store-api.js';

export const YEALINK = '001565aabb01';
export const SNOM = '000413aabb02';
export const POLY = '0004f2aabb03';
export const LIFT = '001565aabb09';
/** A valid MAC no phone has. */
export const NOBODY = 'ffffffffffff';

/** A realistic epoch-ms instant (beyond 32 bits, so a BIGINT read back as text shows). */
export const T0 = 1_700_000_000_000;

const user = (ext: string, name: string, password: string, extra: Partial<User['sip']> = {}, hotdesk = true): User => ({
  ext,
  name,
  hotdesk,
  sip: { user: ext, authName: ext, password, displayName: name, ...extra },
});

/** The users with their PINs (null: none). */
export const USERS: readonly { readonly user: User; readonly pin: string | null }[] = [
  { user: user('001', 'Reception', 'reception-secret', { outboundCallerId: '+4930123450' }), pin: '1234' },
  {
    user: user('101', 'Alex Sales', 'alex-sales-secret', { displayName: 'Alex (Sales)', outboundCallerId: '+4930123451', voicemailNumber: '*97' }),
    pin: '4321',
  },
  {
    user: user('102', 'Alex Support', 'alex-support-secret', { displayName: 'Alex (Support)', outboundCallerId: '+4930123452', voicemailNumber: '*97' }),
    pin: '8765',
  },
  { user: user('200', 'Sam', 'sam-secret'), pin: '2468' },
  { user: user('300', 'No Pin', 'nopin-secret', {}, false), pin: null },
];

/** The user with short number `ext` from {@link USERS}. */
export function userOf(ext: string): User {
  const u = USERS.find((x) => x.user.ext === ext)?.user;
  if (!u) throw new Error(`no fixture user ${ext}`);
  return u;
}

export const PHONES: readonly Phone[] = [
  {
    mac: YEALINK,
    vendor: 'yealink',
    model: 'T46U',
    label: 'Desk 1',
    location: '1st floor',
    hotdesk: true,
    identities: ['101', '102'],
    keys: [{ kind: 'speed', label: 'Reception', value: '001' }],
  },
  { mac: SNOM, vendor: 'snom', model: 'D785', label: 'Desk 2', hotdesk: true, identities: ['101'], keys: [] },
  { mac: POLY, vendor: 'poly', model: 'VVX450', label: 'Desk 3', hotdesk: true, identities: [], keys: [{ kind: 'blf', label: 'Sam', value: '200', line: 1 }] },
  {
    mac: LIFT,
    vendor: 'yealink',
    model: 'T46U',
    label: 'Lift',
    hotdesk: false,
    deviceAccount: { user: 'lift', authName: 'lift', password: 'lift-secret', displayName: 'Lift' },
    identities: [],
    keys: [],
  },
];

/** The phone with MAC `mac` from {@link PHONES}. */
export function phoneOf(mac: string): Phone {
  const p = PHONES.find((x) => x.mac === mac);
  if (!p) throw new Error(`no fixture phone ${mac}`);
  return p;
}

/** Writes the users and phones at `now` in one transaction. */
export async function seed(store: StoreApi, now = T0): Promise<void> {
  await store.transaction(async (tx) => {
    for (const u of USERS) await tx.putUser(u.user, u.pin, now);
    for (const p of PHONES) await tx.putPhone(p, 'directory', now);
  });
}

/** The rejection of `p` (fails the test when `p` resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
