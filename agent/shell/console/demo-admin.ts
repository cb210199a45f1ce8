/**
 * The demo's console account: `admin` / `hotdesk-demo`, created only when
 * `hotdesk serve --demo` imports the demo office into an empty data
 * directory, and only when no console account exists. Demo only: a real
 * site creates its accounts with `hotdesk admin add` (docs/console.md).
 */
import { AdminStore } from '../../store/admin-queries.js';
import type { Store } from '../../store/store.js';
import { hashPassword } from './password-hash.js';

/** The demo account's name and password (documented as demo-only). */
export const DEMO_ADMIN = Object.freeze({ name: 'admin', password: 'hotdesk-demo' });

/** Adds the demo admin when the store has no console account; true when added. */
export async function addDemoAdmin(store: Store, now: number): Promise<boolean> {
  const admins = new AdminStore(store.db);
  if (admins.countAdmins() > 0) return false;
  admins.addAdmin({ name: DEMO_ADMIN.name, role: 'admin', passwordHash: await hashPassword(DEMO_ADMIN.password) }, now);
  return true;
}

/** The banner line that says where the console is and how to sign in the first time. */
export function consoleBannerLine(store: Store, baseUrl: string, dataDir: string): string {
  const n = new AdminStore(store.db).countAdmins();
  const how = n === 0 ? `no account yet: hotdesk admin add NAME --role admin --data ${dataDir}` : `${n} account${n === 1 ? '' : 's'} (hotdesk admin list)`;
  return `  Console ${baseUrl}/admin/    ${how}`;
}
