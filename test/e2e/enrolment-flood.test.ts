/**
 * Attack: flood the agent with requests for random MACs' secret files (a
 * vendor User-Agent, no credentials) hoping it enrols each one, renders and
 * caches its ~37 KB file and later sends it NOTIFYs and HTTP probes.
 *
 * Now a phone is enrolled only after it authenticated with the bootstrap
 * credential; nothing is rendered or cached before that; every probe counts
 * towards its source's failure limit; with anonymous enrolment on, probes
 * are quarantined sightings capped per source and in total.
 *
 * Real HTTP over loopback from 200 source addresses (127.0.1.x), so the
 * per-source limiter alone cannot hide a leak.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SIGHTING_CAPS } from '../../agent/store/sighting-queries.js';
import { startHarness, type Harness } from '../helpers/agent-harness.js';
import { mulberry32 } from '../helpers/prng.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(): Promise<Harness> {
  const h = await startHarness();
  cleanups.push(() => h.stop());
  return h;
}

function get(port: number, path: string, userAgent: string, localAddress: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress, agent, headers: { 'user-agent': userAgent } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `count` requests for random Yealink MACs' `<mac>.cfg`, spread over 200 source addresses, 32 at a time. */
async function flood(h: Harness, count: number, seed: number): Promise<Map<number, number>> {
  const rand = mulberry32(seed);
  const port = h.agent.http.port;
  const agents = Array.from({ length: 200 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  cleanups.push(() => {
    for (const a of agents) a.destroy();
  });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const mac = `001565${Math.floor(rand() * 0xffffff)
        .toString(16)
        .padStart(6, '0')}`;
      const ua = `Yealink SIP-T46U 108.86.0.45 ${mac.replace(/(..)(?=.)/g, '$1:')}`;
      const src = i % 200;
      const status = await get(port, `/${mac}.cfg`, ua, `127.0.1.${src + 1}`, agents[src]!);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return statuses;
}

describe('pre-authentication enrolment flood', () => {
  it('5,000 random-MAC requests: no phone enrolled, nothing rendered or cached, no NOTIFY, bounded memory', async () => {
    const h = await harness();
    expect(h.agent.sqlite.getSite().provisioning.autoEnrol).toBe(true);
    const phonesBefore = h.agent.sqlite.listPhones().length;
    const rssBefore = process.memoryUsage().rss;
    const statuses = await flood(h, 5_000, 11);
    const rssAfter = process.memoryUsage().rss;

    // every request was challenged or refused; the limiter kicked in per source
    expect([...statuses.keys()].every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);
    expect(h.agent.sqlite.listPhones()).toHaveLength(phonesBefore);
    expect(h.agent.pipeline.cacheStats.entries).toBe(0);
    expect(h.agent.sqlite.listSightings()).toEqual([]);
    expect(h.agent.sqlite.queryAudit({ kinds: ['enrolment', 'sync-sent'] })).toEqual([]);
    expect(rssAfter - rssBefore).toBeLessThan(20 * 1024 * 1024);
  });

  it('with anonymous enrolment on, the flood leaves only capped sightings (per source and in total), still no phone', async () => {
    const h = await harness();
    const site = h.agent.sqlite.getSite();
    h.agent.sqlite.putSite({ ...site, provisioning: { ...site.provisioning, anonymousEnrolment: true } }, Date.now());
    const phonesBefore = h.agent.sqlite.listPhones().length;
    await flood(h, 2_000, 12);
    expect(h.agent.sqlite.listPhones()).toHaveLength(phonesBefore);
    const sightings = h.agent.sqlite.listSightings();
    expect(sightings.length).toBeGreaterThan(0);
    expect(sightings.length).toBeLessThanOrEqual(DEFAULT_SIGHTING_CAPS.total);
    const perSource = new Map<string, number>();
    for (const s of sightings) perSource.set(s.ip, (perSource.get(s.ip) ?? 0) + 1);
    expect(Math.max(...perSource.values())).toBeLessThanOrEqual(DEFAULT_SIGHTING_CAPS.perSource);
    expect(sightings.every((s) => s.via === 'http')).toBe(true);
    expect(h.agent.pipeline.cacheStats.entries).toBe(0);
  });

  it('a real new phone still enrols itself with the bootstrap credential', async () => {
    const h = await harness();
    const mac = '001565f00d01';
    const ua = 'Yealink SIP-T46U 108.86.0.45 00:15:65:f0:0d:01';
    const r = await h.fetchAs({ mac, vendor: 'yealink', userAgent: ua, secretFile: `${mac}.cfg`, sippScenario: '', slotOneCleared: /x/ });
    expect(r.status).toBe(200);
    expect(h.agent.sqlite.getPhone(mac)).toMatchObject({ vendor: 'yealink', model: 'T46U' });
    expect(h.agent.sqlite.phoneRuntime(mac)?.notifyIp).toBe('127.0.0.1');
    // a wrong bootstrap password enrols nothing
    const bad = await h.fetchAs(
      {
        mac: '001565f00d02',
        vendor: 'yealink',
        userAgent: ua.replace('f0:0d:01', 'f0:0d:02'),
        secretFile: '001565f00d02.cfg',
        sippScenario: '',
        slotOneCleared: /x/,
      },
      undefined,
      'bootstrap:wrong',
    );
    expect(bad.status).toBe(401);
    expect(h.agent.sqlite.getPhone('001565f00d02')).toBeUndefined();
  });
});
