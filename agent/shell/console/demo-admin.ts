/**
 * The demo's console account: `admin` / `hotdesk-demo`, created only when
 * `hotdesk serve --demo` imports the demo office into an empty data
 * directory, and only when no console account exists. Demo only: a real
 * site creates its accounts with `hotdesk admin add` (docs/console.md).
 */
import type { StoreData } from '../../store/store-api.js';
import { hashPassword } from './password-hash.js';

/** The demo account's name and password (documented as demo-only). */
export const DEMO_ADMIN = Object.freeze({ name: 'admin', password: 'hotdesk-demo' });

/** Adds the demo admin when the store has no console account; true when added. */
export async function addDemoAdmin(store: StoreData, now: number): Promise<boolean> {
  if ((await store.countAdmins()) > 0) return false;
  const passwordHash = await hashPassword(DEMO_ADMIN.password);
  await store.addAdmin({ name: DEMO_ADMIN.name, role: 'admin', passwordHash }, now);
  return true;
}

/** The banner line that says where the console is and how to sign in the first time. */
export async function consoleBannerLine(store: StoreData, baseUrl: string, dataDir: string): Promise<string> {
  const n = await store.countAdmins();
  const how = n === 0 ? `no account yet: hotdesk admin add NAME --role admin --data ${dataDir}` : `${n} account${n === 1 ? '' : 's'} (hotdesk admin list)`;
  return `  Console ${baseUrl}/admin/    ${how}`;
}
