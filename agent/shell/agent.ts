/**
 * The composition root: opens the store, loads profiles and templates, and
 * starts every listener (HTTP(S), TFTP, SIP notifier, optional PnP and SSDP),
 * the re-sync worker, the audit tail and the session-expiry timer.
 * `hotdesk serve` and the end-to-end tests both start the agent through here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { SiteSettings, Vendor } from '../core/model.js';
import { hostname } from 'node:os';
import { HotdeskError } from '../core/errors.js';
import { openStoreApi } from '../store/open-store-api.js';
import type { SqliteStoreApi } from '../store/sqlite-store.js';
import { PgListener } from './sync/pg-listener.js';
import { HotdeskService } from './hotdesk-service.js';
import { loadFirmwareProfiles } from '../vendors/firmware-profile.js';
import { createDrivers } from '../vendors/registry.js';
import { agentUrls, trimBase } from './provisioning/agent-urls.js';
import { advertisedSip } from './provisioning/hotdesk-line-input.js';
import { ProvisioningPipeline } from './provisioning/provisioning-pipeline.js';
import { RenderAhead } from './provisioning/render-ahead.js';
import { RenderPool, renderWorkerAvailable } from './provisioning/render-pool.js';
import { provisioningRoutes } from './provisioning/provisioning-http.js';
import { DigestAuthority } from './provisioning/http-digest-auth.js';
import { FailureLimiter } from './http/rate-limiter.js';
import { startHttpServer } from './http/server.js';
import { startTftpServer, type TftpServerStats } from './tftp/tftp-server.js';
import { tftpResolver } from './tftp/tftp-resolver.js';
import { SipNotifier } from './sync/sip-notifier.js';
import { startVoice } from './voice/start-voice.js';
import { SyncWorker } from './sync/sync-worker.js';
import { AuditTail } from './api/event-stream.js';
import { adminApi } from './api/admin-routes.js';
import { consoleRoutes } from './console/console-plugin.js';
import { openApi } from './api/openapi.js';
import { knownModelOf } from './provisioning/sightings.js';
import { pbxApi } from './api/pbx-routes.js';
import { actionRoutes } from './phone/action-routes.js';
import { createEventSocket } from './api/event-socket.js';
import { screenRoutes } from './phone/screen-routes.js';
import { FirmwareFiles } from './provisioning/firmware-files.js';
import { httpResync } from './sync/http-resync.js';
import { advertisedAddress, httpBase } from './discovery/lan-address.js';
import { startPnpResponder } from './discovery/pnp-responder.js';
import { createPnpProvisioning } from './discovery/pnp-provisioning.js';
import { startSsdpAdvertiser } from './discovery/ssdp-advertiser.js';
import { auditReader, lastAuditId, syncStoreAdapter } from './sync/store-adapters.js';
import { opsRoutes, startMetricsServer } from './api/ops-routes.js';
import { enableProcessMetrics, observeAuditEvent, setMetricSources } from './api/metrics.js';
import { registeredLines } from './api/metric-sources.js';
import type { AgentOptions, RunningAgent } from './agent-types.js';

export type { AgentOptions, RunningAgent } from './agent-types.js';

/** A stable id for this agent (SSDP USN), kept in `<data>/agent-id`. */
export function agentUuid(dataDir: string): string {
  const file = join(dataDir, 'agent-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  }
  const id = randomUUID();
  writeFileSync(file, `${id}\n`, { mode: 0o644 });
  return id;
}

/** Starts the agent; on any start-up failure closes what was opened and rethrows. */
export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const clock = o.clock ?? Date.now;
  const host = o.host ?? '0.0.0.0';
  const log = o.log;
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn('close failed', { error: String(e) });
      }
    }
  };
  try {
    mkdirSync(o.dataDir, { recursive: true });
    const store = await openStoreApi({ store: o.store, dataDir: o.dataDir, agentId: o.agentId ?? hostname(), pool: o.pool, leaseMs: o.syncLeaseMs });
    closers.push(() => store.close());
    const profiles = loadFirmwareProfiles();
    const drivers = createDrivers({ siteTemplateDir: join(o.dataDir, 'templates') });
    const service = new HotdeskService(store, clock);
    const firmware = new FirmwareFiles(join(o.dataDir, 'firmware'));

    // HTTP first (port 0 resolves to the real port, which the URLs need).
    const limiter = new FailureLimiter();
    const digest = new DigestAuthority('hotdesk');
    let baseUrl = '';
    let sipPort = 0; // hot-desk lines register at the host phones fetch their files from, on the bound SIP port
    /** The provisioning base URL phones use: the site's, else the bound HTTP listener's. */
    const baseOf = (site: SiteSettings): string => site.provisioning.baseUrl ?? baseUrl;
    const sipAdvertised = (site: SiteSettings) => advertisedSip(baseOf(site), sipPort);
    let renderer: RenderPool | undefined;
    if (o.renderWorkers !== undefined && o.renderWorkers > 0) {
      if (renderWorkerAvailable()) {
        const pool = new RenderPool({ size: o.renderWorkers, siteTemplateDir: join(o.dataDir, 'templates') });
        closers.push(() => pool.close());
        renderer = pool;
      } else {
        log.debug('render workers unavailable (no compiled render-worker.js): rendering in-thread', { requested: o.renderWorkers });
      }
    }
    const pipeline = new ProvisioningPipeline({
      ...(renderer ? { renderer } : {}),
      ...(o.renderCacheBytes !== undefined ? { cacheBytes: o.renderCacheBytes } : {}),
      store: store,
      drivers,
      profiles,
      clock,
      limiter,
      sipAdvertised,
      urls: (phone, token, site) => agentUrls(baseOf(site), phone, token, profiles.find(phone.vendor, phone.model)?.firmware?.file),
    });
    // Files rendered before the phones ask (render-ahead.ts): only on workers, never ahead of a fetch.
    const pool = renderer;
    const ahead =
      pool && o.renderAhead !== false
        ? new RenderAhead({
            render: (mac) => pipeline.renderAhead(mac),
            busy: () => pool.queued > 0,
            log,
            onIdle: (s) => log.info('files rendered ahead', { files: s.files, failed: s.failed }),
          })
        : undefined;
    closers.push(() => ahead?.stop());
    const tail = new AuditTail(
      auditReader(store),
      await lastAuditId(store),
      250,
      (e) => log.error('audit tail read failed', { error: String(e) }),
      // PostgreSQL: ids may commit out of order (event-stream.ts).
      store.kind === 'postgres' ? (ids) => store.queryAudit({ ids, limit: ids.length }) : undefined,
    );
    closers.push(() => tail.stop());
    // Served-file records are written behind in batches (store/write-behind.ts); a confirmed sync is published once committed.
    store.deferWrites({ schedule: (flush) => void setTimeout(flush, 4), onError: (e) => log.error('deferred store write failed', { error: String(e) }) });
    store.onDeferredWrite((confirmed) => void (confirmed.length > 0 && tail.drain()));
    tail.subscribe(observeAuditEvent);
    enableProcessMetrics();
    let draining = false;
    const bound: Record<string, number | null> = { http: null, sip: null };

    // A check-sync that gets no answer within 8 s (T1 retransmissions at 0.5, 1, 2, 4 s) is
    // retried later by the sync worker's backoff, so a dead phone holds a slot for 8 s, not
    // for RFC 3261's full 32 s timer F.
    const timers = o.sipTimers ?? { t1Ms: 500, timeoutMs: 8_000 };
    const notifier = await SipNotifier.open({ host, port: o.sipPort ?? 0, t1Ms: timers.t1Ms, timeoutMs: timers.timeoutMs, log });
    closers.push(() => notifier.close());
    sipPort = notifier.port;
    // The hot-desk line: registrar and call server on the same SIP port (docs/voice.md).
    const voice = await startVoice({
      store,
      service,
      sip: notifier,
      host,
      dataDir: o.dataDir,
      log,
      ...(o.rtpPorts ? { rtpPorts: o.rtpPorts } : {}),
      ...(o.callLimit !== undefined ? { callLimit: o.callLimit } : {}),
      ...(o.sipTimers ? { sipTimers: o.sipTimers } : {}),
      ...(o.voiceTiming ? { dialogTiming: o.voiceTiming } : {}),
    });
    closers.push(() => voice.close());
    const eventFor = (vendor: Vendor): string => drivers.find((d) => d.vendor === vendor)?.checkSyncEvent ?? 'check-sync';
    const sync = new SyncWorker({
      store: syncStoreAdapter(store),
      notify: (n) => notifier.notify(n),
      eventFor,
      ...(o.httpResyncFallback === false ? {} : { httpFallback: (p) => (p.notifyIp ? httpResync(p.vendor, p.notifyIp) : Promise.resolve(false)) }),
      clock,
      log,
      ...(o.syncRetry ? { policy: o.syncRetry } : {}),
      ...(o.syncTickMs !== undefined ? { tickMs: o.syncTickMs } : {}),
    });
    closers.push(() => sync.stop());
    const onCommitted = (): void => void tail.drain();
    // The commit names the phones it bumped: notify exactly those now; retries run on the timer.
    store.onChange((macs) => {
      sync.poke(macs);
      ahead?.push(macs);
      onCommitted();
    });

    const deps = { store, service, tail, clock, log, onCommitted, limiter, knownModel: knownModelOf(profiles) };
    const events = createEventSocket(deps);
    closers.push(() => events.close());
    const ops = opsRoutes({
      store,
      clock,
      limiter,
      readiness: { pingStore: () => store.ping(), listeners: () => bound, draining: () => draining },
      describe: async () => {
        const site = await store.getSite();
        return {
          service: 'hotdesk',
          site: site.name,
          provisioning: `${trimBase(baseOf(site))}/`,
          api: `${baseUrl}/api/v1/`,
          openapi: `${baseUrl}/api/v1/openapi.json`,
          events: `${baseUrl.replace(/^http/, 'ws')}/api/v1/events`,
        };
      },
    });
    const http = await startHttpServer({
      host,
      port: o.httpPort ?? 8080,
      log,
      clock,
      digest,
      ...(o.tls ? { tls: o.tls } : {}),
      plugins: [
        openApi,
        ops,
        pbxApi(deps),
        adminApi(deps),
        // The console asks without the site (read here synchronously: SQLite) or with the one it read.
        consoleRoutes({
          ...deps,
          drivers,
          profiles,
          baseUrl: baseOf,
          sipAdvertised,
        }),
        events.plugin,
        actionRoutes(deps),
        screenRoutes({ ...deps, drivers, baseUrl: baseOf }),
        provisioningRoutes({ pipeline, store: store, digest, dataDir: o.dataDir, clock, log, limiter, firmware }),
      ],
    });
    closers.push(() => {
      bound['http'] = null;
      return http.close();
    });
    bound['http'] = http.port;
    bound['sip'] = notifier.port;
    baseUrl = httpBase(o.tls ? 'https' : 'http', advertisedAddress(host), http.port);

    let tftpPort: number | null = null;
    let tftpStats: (() => TftpServerStats) | undefined;
    if (o.tftpPort !== null) {
      const tftp = await startTftpServer({
        host,
        port: o.tftpPort ?? 6969,
        ...(o.tftpLimits ? { limits: o.tftpLimits } : {}),
        log: (level, msg, fields) => log[level](msg, fields),
        resolve: tftpResolver({ pipeline, firmware }),
      });
      closers.push(() => tftp.close());
      tftpPort = tftp.port;
      bound['tftp'] = tftp.port;
      tftpStats = () => tftp.stats();
    }

    let pnpPort: number | null = null;
    if (o.pnpPort !== undefined && o.pnpPort !== null) {
      const pnpInterface = o.pnpInterface ?? (host !== '0.0.0.0' ? host : undefined);
      const hooks = createPnpProvisioning({ store, profiles, clock, log, baseUrl: baseOf });
      const pnp = await startPnpResponder({
        port: o.pnpPort,
        multicast: o.pnpMulticast ?? true,
        // Unicast on --host when given; the group is joined on --pnp-interface (default --host).
        ...(host !== '0.0.0.0' ? { host } : {}),
        ...(pnpInterface !== undefined ? { interface: pnpInterface } : {}),
        ...(o.pnpLimits ? { limits: o.pnpLimits } : {}),
        provisioningUrlFor: hooks.provisioningUrlFor,
        onSighting: hooks.onSighting,
        log,
      });
      closers.push(() => pnp.close());
      pnpPort = pnp.port;
      bound['pnp'] = pnp.port;
    }
    let ssdpPort: number | null = null;
    if (o.ssdpPort !== undefined && o.ssdpPort !== null) {
      const ssdpInterface = o.ssdpInterface ?? (host !== '0.0.0.0' ? host : undefined);
      const ssdp = await startSsdpAdvertiser({
        uuid: agentUuid(o.dataDir),
        location: `${baseUrl}/.well-known/hotdesk.json`,
        port: o.ssdpPort,
        ...(ssdpInterface !== undefined ? { interfaceAddress: ssdpInterface } : {}),
        log,
      });
      closers.push(() => ssdp.close());
      ssdpPort = ssdp.port;
    }

    // Sessions that end by themselves (docs/behaviour.md §7).
    const expiry = setInterval(() => {
      service.expireDue(clock()).then(
        (ended) => ended.length > 0 && onCommitted(),
        (e) => log.error('session expiry failed', { error: String(e) }),
      );
    }, 30_000);
    expiry.unref();
    closers.push(() => clearInterval(expiry));

    let metricsPort: number | null = null;
    if (o.metricsListen) {
      const m = await startMetricsServer(o.metricsListen.host, o.metricsListen.port);
      closers.push(() => m.close());
      metricsPort = m.port;
    }
    setMetricSources({
      phonesBySyncState: () => store.syncStateCounts(),
      voiceCalls: () => voice.server.activeCalls,
      linesRegistered: () => registeredLines(store, Date.now()),
      renderCacheBytes: () => pipeline.cacheStats.bytes,
      ...(tftpStats ? { tftp: tftpStats } : {}),
    });
    closers.push(() => setMetricSources(null));

    if (store.kind === 'postgres' && o.store !== undefined) {
      // Other agents' commits wake this one; the rows stay the truth (docs/scaling.md).
      const listener = new PgListener({
        url: o.store,
        log,
        onSync: (macs) => {
          sync.poke(macs);
          ahead?.push(macs);
        },
        onAudit: onCommitted,
        onConnect: () => {
          sync.poke();
          onCommitted();
        },
      });
      await listener.start();
      closers.push(() => listener.stop());
    }
    tail.start();
    sync.start();
    sync.poke();
    if (ahead)
      void store.listPhones().then(
        (phones) => ahead.start(phones.map((p) => p.mac)),
        (e) => log.error('render ahead: listing phones failed', { error: String(e) }),
      );
    return {
      store,
      get sqlite() {
        if (store.kind !== 'sqlite') throw new HotdeskError('storage-error', 'the agent runs on PostgreSQL, not SQLite');
        return (store as SqliteStoreApi).sync;
      },
      service,
      http,
      tftpPort,
      sipPort: notifier.port,
      voice: { server: voice.server, rtpPorts: voice.rtpPorts, callLimit: voice.callLimit },
      pnpPort,
      ssdpPort,
      baseUrl,
      tail,
      sync,
      pipeline,
      metricsPort,
      drain: async (timeoutMs) => {
        draining = true;
        const deadline = Date.now() + timeoutMs;
        sync.stop();
        const httpDone = await http.drain(timeoutMs);
        // Check-sync transactions already sent get their answer (or time out) within the bound.
        // ... and so do TFTP transfers under way.
        while ((sync.busy > 0 || (tftpStats?.().active ?? 0) > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await tail.drain();
        return httpDone && sync.busy === 0 && (tftpStats?.().active ?? 0) === 0;
      },
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
