/**
 * Shared fixture for the entry-point tests (REST, PBX, action URLs, events):
 * a real store on a temp SQLite file, the real hot-desk service, the audit
 * tail, and a real HTTP server on 127.0.0.1:0 with every entry-point route.
 *
 * Demo state (as examples/demo.yaml describes it): Yealink 001565aabb01,
 * Yealink 001565aabb02 with device account `desk02`, Poly 0004f2aabb03;
 * users 001/1234, 101/4321, 102/8765 (SIP users `u001`, `u101`, `u102`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Phone, User } from '../../agent/core/model.js';
import { openStore, type Store } from '../../agent/store/store.js';
import { defaultSite } from '../../agent/store/default-site.js';
import { HotdeskService } from '../../agent/shell/hotdesk-service.js';
import { AuditTail } from '../../agent/shell/event-stream.js';
import { startHttpServer, type RunningHttpServer } from '../../agent/shell/http-server.js';
import { createApiRoutes, type ApiDeps } from '../../agent/shell/api-routes.js';
import { createPbxRoutes } from '../../agent/shell/pbx-routes.js';
import { createActionRoutes } from '../../agent/shell/action-routes.js';
import { createEventSocket, type EventSocket } from '../../agent/shell/event-socket.js';
import { silentLogger } from '../../agent/shell/logger.js';
import type { FailureLimiter } from '../../agent/shell/rate-limiter.js';

export const TOKEN = 'test-api-token-3f9a1c';
export const YEALINK = '001565aabb01';
export const YEALINK2 = '001565aabb02';
export const POLY = '0004f2aabb03';

function user(ext: string, name: string): User {
  return { ext, name, hotdesk: true, sip: { user: `u${ext}`, authName: `u${ext}`, password: `secret-${ext}-pw`, displayName: name } };
}

function phone(mac: string, vendor: Phone['vendor'], model: string, extra: Partial<Phone> = {}): Phone {
  return { mac, vendor, model, label: `Desk ${mac.slice(-2)}`, hotdesk: true, identities: [], keys: [], ...extra };
}

export interface ApiFixture {
  readonly base: string;
  readonly store: Store;
  readonly service: HotdeskService;
  readonly tail: AuditTail;
  readonly events: EventSocket;
  readonly http: RunningHttpServer;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  now(): number;
  screenToken(mac: string): string;
  close(): Promise<void>;
}

/** Starts the fixture; call `close()` in afterEach/afterAll. */
export async function startApiFixture(opts: { limiter?: FailureLimiter } = {}): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hotdesk-api-'));
  const store = openStore(dir);
  let now = 1_750_000_000_000;
  const clock = (): number => now;
  const site = defaultSite('bootstrap-pw');
  store.putSite({ ...site, name: 'demo', apiTokens: [TOKEN] }, now);
  for (const [ext, name, pin] of [
    ['001', 'Ada Lovelace', '1234'],
    ['101', 'Grace Hopper', '4321'],
    ['102', 'Alan Turing', '8765'],
  ] as const) {
    store.putUser(user(ext, name), pin, now);
  }
  store.putPhone(phone(YEALINK, 'yealink', 'T46U', { identities: ['101', '102'] }), 'directory', now);
  store.putPhone(
    phone(YEALINK2, 'yealink', 'T54W', { deviceAccount: { user: 'desk02', authName: 'desk02', password: 'device-secret-pw', displayName: 'Desk 02' } }),
    'directory',
    now,
  );
  store.putPhone(phone(POLY, 'poly', 'VVX450'), 'directory', now);
  const service = new HotdeskService(store, clock);
  const last = store.queryAudit({ limit: 1 }).at(-1)?.id ?? 0;
  const tail = new AuditTail((after, limit) => store.queryAudit({ afterId: after, limit }), last);
  const deps: ApiDeps = { store, service, tail, clock, log: silentLogger, onCommitted: () => tail.drain(), ...(opts.limiter ? { limiter: opts.limiter } : {}) };
  const events = createEventSocket(deps, { pingIntervalMs: 0 });
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    routes: [...createPbxRoutes(deps), ...createApiRoutes(deps), ...createActionRoutes(deps)],
    log: silentLogger,
    onUpgrade: events.upgrade,
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
    screenToken: (mac) => {
      const rt = store.phoneRuntime(mac);
      if (!rt) throw new Error(`no runtime for ${mac}`);
      return rt.screenToken;
    },
    close: async () => {
      events.close();
      await http.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headers with the API token. */
export function auth(extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${TOKEN}`, ...extra };
}
