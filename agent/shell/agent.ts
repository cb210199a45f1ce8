/**
 * The composition root: opens the store, loads profiles and templates, and
 * starts every listener (HTTP(S), TFTP, SIP notifier, optional PnP and SSDP),
 * the re-sync worker, the audit tail and the session-expiry timer.
 * `hotdesk serve` and the end-to-end tests both start the agent through here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Vendor } from '../core/model.js';
import type { SyncRetryPolicy } from '../core/sync-backoff.js';
import { openStore, type Store } from '../store/store.js';
import { HotdeskService } from './hotdesk-service.js';
import { loadFirmwareProfiles } from '../vendors/firmware-profile.js';
import { createDrivers } from '../vendors/registry.js';
import { agentUrls, trimBase } from './provisioning/agent-urls.js';
import { advertisedSip } from './provisioning/hotdesk-line-input.js';
import { ProvisioningPipeline } from './provisioning/provisioning-pipeline.js';
import { RenderPool, renderWorkerAvailable } from './provisioning/render-pool.js';
import { provisioningRoutes } from './provisioning/provisioning-http.js';
import { DigestAuthority } from './provisioning/http-digest-auth.js';
import { FailureLimiter } from './http/rate-limiter.js';
import { startHttpServer, type RunningHttpServer } from './http/server.js';
import { startTftpServer, type TftpServerLimits, type TftpServerStats } from './tftp/tftp-server.js';
import { tftpResolver } from './tftp/tftp-resolver.js';
import { SipNotifier } from './sync/sip-notifier.js';
import { startVoice } from './voice/start-voice.js';
import type { VoiceServer } from './voice/voice-server.js';
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
import { startPnpResponder, type PnpLimits } from './discovery/pnp-responder.js';
import { createPnpProvisioning } from './discovery/pnp-provisioning.js';
import { startSsdpAdvertiser } from './discovery/ssdp-advertiser.js';
import type { Logger } from './logger.js';
import { auditReader, lastAuditId, syncStoreAdapter } from './sync/store-adapters.js';
import { opsRoutes, startMetricsServer } from './api/ops-routes.js';
import { enableProcessMetrics, observeAuditEvent, setMetricSources } from './api/metrics.js';
import { registeredLines, syncStateCounts } from './api/metric-sources.js';

export interface AgentOptions {
  readonly dataDir: string;
  /** Bind address for every listener (default `0.0.0.0`). */
  readonly host?: string;
  readonly httpPort?: number;
  readonly tftpPort?: number | null;
  /** The agent's SIP UDP port: hot-desk line registrar and calls, NOTIFY source (0 = ephemeral). */
  readonly sipPort?: number;
  /** UDP ports for call audio (default 40000-40999). */
  readonly rtpPorts?: { readonly min: number; readonly max: number };
  /** Hot-desk-line calls at once (default 50). */
  readonly callLimit?: number;
  /** Spoken-dialog timing (tests shorten it). */
  readonly voiceTiming?: { readonly firstDigitMs?: number; readonly interDigitMs?: number; readonly maxCallMs?: number };
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** SIP PnP responder port (null = off). */
  readonly pnpPort?: number | null;
  readonly pnpMulticast?: boolean;
  /** IPv4 address of the interface PnP listens and joins 224.0.1.75 on (default: `host` when not 0.0.0.0, else every interface). */
  readonly pnpInterface?: string;
  /** TFTP slot limits (`--tftp-per-source`; defaults in docs/tftp.md "Limits"). */
  readonly tftpLimits?: TftpServerLimits;
  /** PnP answer budgets (default `DEFAULT_PNP_LIMITS`: 6 answers at once per source address, one more per 10 s). */
  readonly pnpLimits?: Partial<PnpLimits>;
  /** SSDP advertisement (null = off). */
  readonly ssdpPort?: number | null;
  /** IPv4 address of the interface SSDP announces on (default: `host` when not 0.0.0.0, else the kernel's choice). */
  readonly ssdpInterface?: string;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly syncRetry?: SyncRetryPolicy;
  /** SIP timer T1 and transaction timeout (tests shorten them). */
  readonly sipTimers?: { readonly t1Ms: number; readonly timeoutMs: number };
  /** Enable the vendor HTTP re-sync fallback (default true). */
  readonly httpResyncFallback?: boolean;
  readonly syncTickMs?: number;
  /**
   * Render phone files on this many worker threads (0 or absent = in this
   * thread). Needs the compiled `render-worker.js` (dist/); without it the
   * agent logs at debug level and renders in-thread.
   */
  readonly renderWorkers?: number;
  /** Render-cache budget in bytes (`--render-cache-mb`; default 512 MiB). */
  readonly renderCacheBytes?: number;
  /** Serve `/metrics` without token on this address too (`--metrics-host/--metrics-port`). */
  readonly metricsListen?: { readonly host: string; readonly port: number };
}

export interface RunningAgent {
  readonly store: Store;
  readonly service: HotdeskService;
  readonly http: RunningHttpServer;
  readonly tftpPort: number | null;
  readonly sipPort: number;
  /** The hot-desk line's call server, its RTP port range and call limit. */
  readonly voice: { readonly server: VoiceServer; readonly rtpPorts: { readonly min: number; readonly max: number }; readonly callLimit: number };
  readonly pnpPort: number | null;
  /** The SSDP advertiser's port (null = not advertising). */
  readonly ssdpPort: number | null;
  readonly baseUrl: string;
  readonly tail: AuditTail;
  readonly sync: SyncWorker;
  readonly pipeline: ProvisioningPipeline;
  /** Port of the token-free metrics listener (null = none). */
  readonly metricsPort: number | null;
  /**
   * Graceful stop, bounded by `timeoutMs`: `/readyz` turns 503, no new HTTP
   * connections, requests, TFTP transfers and check-sync NOTIFYs in flight finish. Resolves true
   * when all finished in time. Call {@link close} afterwards.
   */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

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
    const store = openStore(o.dataDir);
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
    const sipAdvertised = () => advertisedSip(store.getSite().provisioning.baseUrl ?? baseUrl, sipPort);
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
      urls: (phone, token) => {
        const profile = profiles.find(phone.vendor, phone.model);
        return agentUrls(store.getSite().provisioning.baseUrl ?? baseUrl, phone, token, profile?.firmware?.file);
      },
    });
    const tail = new AuditTail(auditReader(store), lastAuditId(store));
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
    const onCommitted = (): void => {
      tail.drain();
    };
    // The commit names the phones it bumped: notify exactly those now; retries run on the timer.
    store.onChange((macs) => {
      sync.poke(macs);
      tail.drain();
    });

    const deps = { store, service, tail, clock, log, onCommitted, limiter, knownModel: knownModelOf(profiles) };
    const events = createEventSocket(deps);
    closers.push(() => events.close());
    const ops = opsRoutes({
      store,
      clock,
      limiter,
      readiness: { pingStore: () => void store.db.prepare('SELECT 1').get(), listeners: () => bound, draining: () => draining },
      describe: () => {
        const site = store.getSite();
        return {
          service: 'hotdesk',
          site: site.name,
          provisioning: `${trimBase(site.provisioning.baseUrl ?? baseUrl)}/`,
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
        consoleRoutes({ ...deps, drivers, profiles, baseUrl: () => store.getSite().provisioning.baseUrl ?? baseUrl, sipAdvertised }),
        events.plugin,
        actionRoutes(deps),
        screenRoutes({ ...deps, drivers, baseUrl: () => store.getSite().provisioning.baseUrl ?? baseUrl }),
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
      const hooks = createPnpProvisioning({ store, profiles, clock, log, baseUrl: () => store.getSite().provisioning.baseUrl ?? baseUrl });
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
      try {
        if (service.expireDue(clock()).length > 0) onCommitted();
      } catch (e) {
        log.error('session expiry failed', { error: String(e) });
      }
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
      phonesBySyncState: () => syncStateCounts(store),
      voiceCalls: () => voice.server.activeCalls,
      linesRegistered: () => registeredLines(store, Date.now()),
      renderCacheBytes: () => pipeline.cacheStats.bytes,
      ...(tftpStats ? { tftp: tftpStats } : {}),
    });
    closers.push(() => setMetricSources(null));

    tail.start();
    sync.start();
    sync.poke();
    return {
      store,
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
        tail.drain();
        return httpDone && sync.busy === 0 && (tftpStats?.().active ?? 0) === 0;
      },
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
