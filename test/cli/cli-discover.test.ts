/**
 * `hotdesk discover` against a real SSDP advertiser and a real HTTP server
 * serving the agent description, on 127.0.0.1 (M-SEARCH sent unicast with
 * `--group 127.0.0.1`, so the test does not depend on loopback multicast).
 */
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSsdpAdvertiser, type SsdpAdvertiser } from '../../agent/shell/discovery/ssdp-advertiser.js';
import { ensureBuilt, runCli } from './cli-harness.js';

let http: Server;
let adv: SsdpAdvertiser;
let location: string;

beforeAll(async () => {
  ensureBuilt();
  http = createServer((req, res) => {
    if (req.url !== '/.well-known/hotdesk.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // The shape shell/agent.ts serves.
    res.end(
      JSON.stringify({
        service: 'hotdesk',
        site: 'Test office',
        provisioning: 'http://127.0.0.1:8080/',
        api: 'http://127.0.0.1:8080/api/v1/',
        events: 'ws://127.0.0.1:8080/api/v1/events',
      }),
    );
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  location = `http://127.0.0.1:${(http.address() as AddressInfo).port}/.well-known/hotdesk.json`;
  adv = await startSsdpAdvertiser({
    uuid: '2f1e6c1a-0000-4000-8000-00000000c11d',
    location,
    port: 0,
    group: '239.255.255.250',
    interfaceAddress: '127.0.0.1',
    maxResponseDelayMs: 0,
  });
}, 200_000);

afterAll(async () => {
  await adv?.close();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
});

describe('hotdesk discover', () => {
  it('finds the agent and prints its name and URLs from the description', async () => {
    const r = await runCli(['discover', '--timeout', '800', '--port', String(adv.port), '--group', '127.0.0.1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Test office \(127\.0\.0\.1\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^  location +${location.replace(/\./g, '\\.')}$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}api +http:\/\/127\.0\.0\.1:8080\/api\/v1\/$/m);
    expect(r.stdout).toMatch(/^ {2}events +ws:\/\/127\.0\.0\.1:8080\/api\/v1\/events$/m);
  });

  it('--json carries the SSDP answer and the parsed description', async () => {
    const r = await runCli(['discover', '--json', '--timeout', '800', '--port', String(adv.port), '--group', '127.0.0.1']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as unknown[];
    expect(list).toEqual([
      expect.objectContaining({
        location,
        address: '127.0.0.1',
        usn: expect.stringContaining('2f1e6c1a-0000-4000-8000-00000000c11d'),
        description: expect.objectContaining({ site: 'Test office' }),
      }),
    ]);
  });

  it('reports that nobody answered (exit 0)', async () => {
    // A bound socket that never answers.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const r = await runCli(['discover', '--timeout', '300', '--port', String(silent.address().port), '--group', '127.0.0.1']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/No agent answered within 300 ms/);
      const j = await runCli(['discover', '--json', '--timeout', '300', '--port', String(silent.address().port), '--group', '127.0.0.1']);
      expect(JSON.parse(j.stdout)).toEqual([]);
    } finally {
      silent.close();
    }
  });
});
