import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { readiness } from '../../agent/shell/api/ops-routes.js';
import { PROJECT_ROOT } from '../../agent/paths.js';
import { DEMO_PHONES, startHarness, type Harness } from '../helpers/agent-harness.js';

const run = promisify(execFile);

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

async function get(url: string, token?: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

/** The value of one sample line (`name{labels} value`) in an exposition, or 0 when absent. */
function sample(text: string, line: string): number {
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit ? Number(hit.slice(line.length + 1)) : 0;
}

describe('health, readiness and metrics', () => {
  it('answers /healthz and /readyz with the bound listeners, and takes no connection once drained', async () => {
    h = await startHarness();
    const health = await get(`${h.base}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
    const ready = await get(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.text) as { ready: boolean; checks: Record<string, string>; listeners: Record<string, number> };
    expect(body.ready).toBe(true);
    expect(body.checks['store']).toBe('ok');
    expect(body.listeners['http']).toBe(h.agent.http.port);
    expect(body.listeners['sip']).toBe(h.agent.sipPort);
    expect(ready.text).not.toMatch(/demo-token|hotdesk-demo|secret/);

    // Draining: the listener takes no new connection at all.
    await h.agent.drain(2_000);
    await expect(fetch(`${h.base}/readyz`)).rejects.toThrow();
  });

  it('is not ready while draining, when the store does not answer or a listener is not bound', async () => {
    const src = { pingStore: () => undefined, listeners: () => ({ http: 8080, tftp: 6969 }), draining: () => false };
    expect((await readiness(src)).ready).toBe(true);
    expect(await readiness({ ...src, draining: () => true })).toMatchObject({ ready: false, checks: { lifecycle: 'shutting down' } });
    expect(await readiness({ ...src, listeners: () => ({ http: 8080, tftp: null }) })).toMatchObject({
      ready: false,
      checks: { 'listener:tftp': 'not bound' },
    });
    const broken = await readiness({
      ...src,
      pingStore: () => {
        throw new Error('SQLITE_IOERR');
      },
    });
    expect(broken).toMatchObject({ ready: false, checks: { store: 'the database does not answer' } });
  });

  it('serves Prometheus metrics behind the API token and counts fetches, logins and refusals', async () => {
    h = await startHarness();
    const none = await get(`${h.base}/metrics`);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text).code).toBe('token-required');
    expect((await get(`${h.base}/metrics`, 'wrong-token-123')).status).toBe(401);

    const before = (await get(`${h.base}/metrics`, 'demo-token')).text;
    const okLine = 'hotdesk_fetches_total{protocol="http",vendor="yealink",outcome="ok"}';
    const loginLine = 'hotdesk_logins_total{outcome="login"}';
    const refusedLine = 'hotdesk_refusals_total{protocol="http",code="auth-failed"}';

    expect((await h.fetchAs(DEMO_PHONES.yealink)).status).toBe(200);
    expect((await h.fetchAs(DEMO_PHONES.yealink, undefined, 'bootstrap:wrong-password')).status).toBe(401);
    const dial = await h.api('POST', '/api/v1/pbx/dial', { mac: DEMO_PHONES.yealink.mac, digits: '*35*001*1234' });
    expect((dial.json as { outcome: string }).outcome).toBe('logged-in');

    const after = await get(`${h.base}/metrics`, 'demo-token');
    expect(after.status).toBe(200);
    expect(after.type).toContain('text/plain');
    expect(sample(after.text, okLine)).toBe(sample(before, okLine) + 1);
    expect(sample(after.text, refusedLine)).toBeGreaterThanOrEqual(sample(before, refusedLine) + 1);
    expect(sample(after.text, loginLine)).toBe(sample(before, loginLine) + 1);
    for (const name of [
      'hotdesk_render_seconds_bucket',
      'hotdesk_render_cache_bytes',
      'hotdesk_notify_round_trip_seconds',
      'hotdesk_sync_confirm_seconds',
      'hotdesk_phones{state="synced"}',
      'hotdesk_tftp_transfers',
      'hotdesk_nodejs_eventloop_lag_seconds',
    ]) {
      expect(after.text).toContain(name);
    }
    expect(sample(after.text, 'hotdesk_render_cache_bytes')).toBeGreaterThan(0);
    // Every series the sample Grafana dashboard queries exists.
    const dashboard = readFileSync(join(PROJECT_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8');
    const queried = new Set([...dashboard.matchAll(/hotdesk_[a-z0-9_]+/g)].map((m) => m[0]));
    expect(queried.size).toBeGreaterThan(8);
    for (const name of queried) expect(after.text).toMatch(new RegExp(`^# TYPE ${name.replace(/_(bucket|sum|count|total)$/, '')}(_total)? `, 'm'));
    const phones = ['synced', 'pending', 'unreachable'].reduce((n, s) => n + sample(after.text, `hotdesk_phones{state="${s}"}`), 0);
    expect(phones).toBe(h.agent.sqlite.listPhones().length);
    // Voice gauges read the running agent: no call up; one line registered once a binding exists.
    expect(sample(after.text, 'hotdesk_voice_calls')).toBe(0);
    expect(sample(after.text, 'hotdesk_lines_registered')).toBe(0);
    const now = Date.now();
    const mac = h.agent.sqlite.listLineRegistrations()[0]?.mac ?? '';
    h.agent.sqlite.setLineRegistration(
      mac,
      { contact: 'sip:x@127.0.0.1:5062', address: '127.0.0.1', port: 5062, transport: 'udp', callId: 'c', cseq: 1, registeredAt: now, expiresAt: now + 60_000 },
      now,
    );
    expect(sample((await get(`${h.base}/metrics`, 'demo-token')).text, 'hotdesk_lines_registered')).toBe(1);
    // Nothing secret in the exposition.
    expect(after.text).not.toMatch(/hotdesk-demo|reception-secret|1234"/);
  });

  it('serves /metrics without a token on its own listener', async () => {
    h = await startHarness({ metricsListen: { host: '127.0.0.1', port: 0 }, tftpPort: 0 });
    expect(h.agent.metricsPort).not.toBeNull();
    const before = (await get(`http://127.0.0.1:${h.agent.metricsPort}/metrics`)).text;
    // A TFTP request for a file nobody serves: a refusal with its code, counted by the TFTP server too.
    await run('curl', ['-s', '--max-time', '5', '-o', '/dev/null', `tftp://127.0.0.1:${h.agent.tftpPort}/no-such-file.cfg`]).catch(() => undefined);
    const r = await get(`http://127.0.0.1:${h.agent.metricsPort}/metrics`);
    expect(r.status).toBe(200);
    expect(r.text).toContain('hotdesk_fetches_total');
    const refused = 'hotdesk_refusals_total{protocol="tftp",code="unknown-file"}';
    expect(sample(r.text, refused)).toBe(sample(before, refused) + 1);
    expect(sample(r.text, 'hotdesk_tftp_transfers{result="refused"}')).toBe(1);
    expect((await get(`http://127.0.0.1:${h.agent.metricsPort}/api/v1/users`)).status).toBe(404);
  });
});

describe('metrics fed from audit events', () => {
  it('turns NOTIFY answers, timeouts, sync confirmations and failures into series', async () => {
    const { observeAuditEvent, renderMetrics } = await import('../../agent/shell/api/metrics.js');
    const read = async (): Promise<string> => (await renderMetrics()).body;
    const before = await read();
    observeAuditEvent({ id: 1, kind: 'sync-sent', at: 0, phone: '001565aabb01', detail: { via: 'sip', status: 200, ms: 30, revision: 2, transmissions: 1 } });
    observeAuditEvent({ id: 2, kind: 'sync-sent', at: 0, phone: '001565aabb01', detail: { via: 'sip', status: 'timeout', revision: 2 } });
    observeAuditEvent({ id: 3, kind: 'sync-confirmed', at: 0, phone: '001565aabb01', detail: { revision: 2, elapsedMs: 1500, attempts: 1 } });
    observeAuditEvent({ id: 4, kind: 'sync-failed', at: 0, phone: '001565aabb01', detail: { revision: 2 } });
    observeAuditEvent({ id: 5, kind: 'wrong-pin', at: 0, phone: '001565aabb01', user: '001' });
    const after = await read();
    const delta = (line: string): number => sample(after, line) - sample(before, line);
    expect(delta('hotdesk_notify_round_trip_seconds_count{result="accepted"}')).toBe(1);
    expect(delta('hotdesk_notify_round_trip_seconds_bucket{le="0.05",result="accepted"}')).toBe(1);
    expect(delta('hotdesk_notify_timeouts_total')).toBe(1);
    expect(delta('hotdesk_sync_confirm_seconds_bucket{le="2"}')).toBe(1);
    expect(delta('hotdesk_sync_confirm_seconds_bucket{le="1"}')).toBe(0);
    expect(delta('hotdesk_sync_failures_total')).toBe(1);
    expect(delta('hotdesk_logins_total{outcome="wrong-pin"}')).toBe(1);
  });
});
