/**
 * Shared fixture for the entry-point tests (REST, PBX, action URLs, events):
 * a real store on a temp SQLite file, the real hot-desk service, the audit
 * tail, and a real HTTP server on 127.0.0.1:0 with every entry-point plugin
 * (and the generated OpenAPI document).
 *
 * State: examples/demo.yaml imported through the directory importer (Yealink
 * 001565aabb01, Snom 000413aabb02, Poly 0004f2aabb03, the lift 001565aabb09;
 * users 001/1234 Reception, 101/4321 Alex Sales, 102/8765 Alex Support,
 * 200/2000; SIP user = short number; API token `demo-token`), plus one phone
 * the demo lacks: Yealink 001565aabb02 that carries the device account
 * `desk02` while logged out (for caller identification by device account).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from '../../../agent/store/sqlite-store.js';
import type { Store } from '../../../agent/store/store.js';
import { loadDirectoryFile } from '../../../agent/directory/load-directory.js';
import { importDirectory } from '../../../agent/directory/import-directory.js';
import { HotdeskService } from '../../../agent/shell/hotdesk-service.js';
import { AuditTail } from '../../../agent/shell/api/event-stream.js';
import { startHttpServer, type RunningHttpServer } from '../../../agent/shell/http/server.js';
import type { ApiDeps } from '../../../agent/shell/api/deps.js';
import { adminApi } from '../../../agent/shell/api/admin-routes.js';
import { openApi } from '../../../agent/shell/api/openapi.js';
import { pbxApi } from '../../../agent/shell/api/pbx-routes.js';
import { actionRoutes } from '../../../agent/shell/phone/action-routes.js';
import { createEventSocket, type EventSocket } from '../../../agent/shell/api/event-socket.js';
import { silentLogger } from '../../../agent/shell/logger.js';
import type { FailureLimiter } from '../../../agent/shell/http/rate-limiter.js';

export const TOKEN = 'demo-token';
export const YEALINK = '001565aabb01';
export const YEALINK2 = '001565aabb02';
export const POLY = '0004f2aabb03';
export const SNOM = '000413aabb02';
export const LIFT = '001565aabb09';

const DEMO = fileURLToPath(new URL('../../../examples/demo.yaml', import.meta.url));

export interface ApiFixture {
  readonly base: string;
  /** The synchronous store underneath (setup and assertions). */
  readonly store: Store;
  readonly service: HotdeskService;
  readonly tail: AuditTail;
  readonly events: EventSocket;
  readonly http: RunningHttpServer;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  now(): number;
  /** Id of the last audit event written by the setup (the import). */
  readonly auditBaseline: number;
  screenToken(mac: string): string;
  close(): Promise<void>;
}

/** Starts the fixture; call `close()` in afterEach/afterAll. */
export async function startApiFixture(opts: { limiter?: FailureLimiter } = {}): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hotdesk-api-'));
  const api = openSqliteStore(dir);
  const store = api.sync;
  let now = 1_750_000_000_000;
  const clock = (): number => now;
  await importDirectory(api, loadDirectoryFile(DEMO), now);
  store.putPhone(
    {
      mac: YEALINK2,
      vendor: 'yealink',
      model: 'T54W',
      label: 'Desk 4',
      hotdesk: true,
      deviceAccount: { user: 'desk02', authName: 'desk02', password: 'device-secret-pw', displayName: 'Desk 4' },
      identities: [],
      keys: [],
    },
    'directory',
    now,
  );
  const service = new HotdeskService(api, clock);
  const last = store.queryAudit({ limit: 1 }).at(-1)?.id ?? 0;

  const tail = new AuditTail((after, limit) => api.queryAudit({ afterId: after, limit }), last);
  const deps: ApiDeps = {
    store: api,
    service,
    tail,
    clock,
    log: silentLogger,
    onCommitted: () => void tail.drain(),
    ...(opts.limiter ? { limiter: opts.limiter } : {}),
  };
  const events = createEventSocket(deps, { pingIntervalMs: 0 });
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: silentLogger,
    clock,
    plugins: [openApi, pbxApi(deps), adminApi(deps), events.plugin, actionRoutes(deps)],
  });
  return {
    base: `http://127.0.0.1:${http.port}`,
    store,
    service,
    tail,
    events,
    http,
    advance: (ms) => {
      now += ms;
    },
    now: () => now,
    auditBaseline: last,
    screenToken: (mac) => {
      const rt = store.phoneRuntime(mac);
      if (!rt) throw new Error(`no runtime for ${mac}`);
      return rt.screenToken;
    },
    close: async () => {
      events.close();
      await http.close();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headers with the API token. */
export function auth(extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${TOKEN}`, ...extra };
}
