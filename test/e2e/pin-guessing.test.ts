/**
 * PIN guessing against a real agent on loopback, through every channel that
 * takes a PIN: the PBX feature-code endpoint (JSON, form, one-line text), the
 * phones' XML-browser screens, the Yealink/Snom outgoing-call action URL, the
 * Poly telephony notification, and `hotdesk dial`. The agent runs on an
 * injected clock so a test can walk through hours of guessing.
 *
 * What it shows:
 * - at most 5 failures per short number in any 15 minutes, however the guesses
 *   are spread over channels and phones and whatever locks happen;
 * - unknown short numbers count on the phone like wrong PINs, and a guesser
 *   logging in as themselves between rounds does not reset the phone;
 * - an unknown short number and a wrong PIN get byte-identical answers on
 *   every channel (status, content type, body).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PHONES, demoDataDir, startHarness, type Harness } from '../helpers/agent-harness.js';
import { ensureBuilt, runCli } from '../cli/cli-harness.js';
import { rmSync } from 'node:fs';
import http from 'node:http';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const Y = DEMO_PHONES.yealink;
const S = DEMO_PHONES.snom;
const P = DEMO_PHONES.poly;
const MIN = 60_000;
const WINDOW = 15 * MIN;

/** An answer as the requester sees it. */
interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

interface Rig {
  readonly h: Harness;
  now(): number;
  advance(ms: number): void;
}

async function rig(): Promise<Rig> {
  let now = Date.UTC(2026, 10, 30, 8, 0, 0);
  const h = await startHarness({ clock: () => now });
  cleanups.push(() => h.stop());
  return {
    h,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

async function answer(r: Response): Promise<Answer> {
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

/** Every channel that takes a short number and a PIN, bound to one phone. */
type Channel = (ext: string, pin: string) => Promise<Answer>;

function channels(r: Rig): Record<string, { mac: string; send: Channel }> {
  const { h } = r;
  const token = (mac: string): string => h.agent.sqlite.phoneRuntime(mac)?.screenToken ?? '';
  const pbx =
    (mac: string, kind: 'json' | 'form' | 'text'): Channel =>
    async (ext, pin) => {
      const digits = `*35*${ext}*${pin}`;
      const headers: Record<string, string> = { authorization: 'Bearer demo-token' };
      if (kind === 'json') headers['content-type'] = 'application/json';
      else headers['content-type'] = 'application/x-www-form-urlencoded';
      const body = kind === 'json' ? JSON.stringify({ mac, digits }) : new URLSearchParams({ mac, digits }).toString();
      return answer(await fetch(`${h.base}/api/v1/pbx/dial${kind === 'text' ? '?format=text' : ''}`, { method: 'POST', headers, body }));
    };
  const screen =
    (mac: string, ua: string): Channel =>
    async (ext, pin) =>
      answer(await fetch(`${h.base}/xml/${mac}/${encodeURIComponent(token(mac))}/submit?ext=${ext}&pin=${pin}`, { headers: { 'user-agent': ua } }));
  const outgoing =
    (mac: string, ua: string): Channel =>
    async (ext, pin) =>
      answer(
        await fetch(
          `${h.base}/action/${mac}/${encodeURIComponent(token(mac))}/outgoing?mac=${mac}&remote=${encodeURIComponent(`sip:*35*${ext}*${pin}@10.0.0.1`)}`,
          {
            headers: { 'user-agent': ua },
          },
        ),
      );
  const poly =
    (mac: string): Channel =>
    async (ext, pin) => {
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?>\n<PolycomIPPhone><OutgoingCallEvent><MACAddress>${mac}</MACAddress>` +
        `<CalledPartyNumber>sip:*35*${ext}*${pin}@10.0.0.1</CalledPartyNumber></OutgoingCallEvent></PolycomIPPhone>`;
      return answer(
        await fetch(`${h.base}/action/${mac}/${encodeURIComponent(token(mac))}/poly`, {
          method: 'POST',
          headers: { 'content-type': 'application/xml', 'user-agent': P.userAgent },
          body: xml,
        }),
      );
    };
  return {
    'pbx json (yealink)': { mac: Y.mac, send: pbx(Y.mac, 'json') },
    'screen (snom)': { mac: S.mac, send: screen(S.mac, S.userAgent) },
    'action url (yealink)': { mac: Y.mac, send: outgoing(Y.mac, Y.userAgent) },
    'pbx text (poly)': { mac: P.mac, send: pbx(P.mac, 'text') },
    'screen (poly)': { mac: P.mac, send: screen(P.mac, P.userAgent) },
    'poly notification': { mac: P.mac, send: poly(P.mac) },
    'action url (snom)': { mac: S.mac, send: outgoing(S.mac, S.userAgent) },
    'pbx form (snom)': { mac: S.mac, send: pbx(S.mac, 'form') },
    'screen (yealink)': { mac: Y.mac, send: screen(Y.mac, Y.userAgent) },
  };
}

/** Outcome code of an answer, whatever the channel's format. */
function outcomeOf(a: Answer): string {
  if (a.type.startsWith('application/json')) return (JSON.parse(a.body) as { outcome: string }).outcome;
  if (/too many wrong pins/i.test(a.body)) return 'locked';
  if (/wrong pin/i.test(a.body)) return 'wrong-pin';
  return a.body.trim().split(/[,\n]/)[0] ?? '';
}

/** Most events inside any 15-minute interval. */
function maxPerWindow(at: readonly number[]): number {
  let best = 0;
  for (const t of at) best = Math.max(best, at.filter((u) => u >= t && u - t < WINDOW).length);
  return best;
}

/** Times of the failures the agent counted on short number `ext` (from its audit log). */
function countedFailures(r: Rig, ext: string): number[] {
  return r.h.agent.sqlite
    .queryAudit({ kinds: ['wrong-pin', 'refused'], user: ext, limit: 10_000 })
    .filter((e) => e.kind === 'wrong-pin' || e.detail?.['reason'] === 'unknown-user')
    .map((e) => e.at);
}

describe('PIN guessing across channels and phones', () => {
  it('one short number collects at most 5 failures in any 15 minutes, over an hour of guessing through every channel', async () => {
    const r = await rig();
    const ch = Object.values(channels(r));
    const outcomes = new Map<string, number>();
    // One guess at Sam's PIN (200/2000) every 20 s for an hour, rotating channels and phones.
    for (let i = 0; i < 180; i++) {
      const a = await ch[i % ch.length]!.send('200', `3${String(i).padStart(3, '0')}`);
      const o = outcomeOf(a);
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      r.advance(20_000);
    }
    expect([...outcomes.keys()].sort()).toEqual(['locked', 'wrong-pin']);
    const counted = countedFailures(r, '200');
    expect(maxPerWindow(counted)).toBe(5);
    // The old guard gave ~10 per 62 s; now 5 per 15 min: at most 20 in the hour.
    expect(counted.length).toBeGreaterThanOrEqual(5);
    expect(counted.length).toBeLessThanOrEqual(20);
    // Nobody got in, and the failure table stayed small.
    expect(r.h.agent.sqlite.listSessions()).toEqual([]);
    expect(r.h.agent.sqlite.lockRowCounts().failures).toBeLessThanOrEqual(5 * 4);
  });

  it('unknown short numbers count on the phone; logging in as oneself between rounds resets nothing', async () => {
    const r = await rig();
    const c = channels(r);
    const onYealink = [c['pbx json (yealink)']!, c['action url (yealink)']!, c['screen (yealink)']!];
    const probes: string[] = [];
    for (let i = 0; i < 4; i++) {
      probes.push(outcomeOf(await onYealink[i % 3]!.send(String(900 + i), '1234')));
      r.advance(10_000);
    }
    expect(probes).toEqual(['wrong-pin', 'wrong-pin', 'wrong-pin', 'wrong-pin']);
    // The guesser logs in as themselves (101/4321) on the same phone, then out again.
    expect(outcomeOf(await c['pbx json (yealink)']!.send('101', '4321'))).toBe('logged-in');
    r.advance(11_000);
    expect(outcomeOf(await c['pbx json (yealink)']!.send('101', '4321'))).toBe('logged-out');
    r.advance(11_000);
    // The fifth unknown number locks the phone; every later probe on any channel is refused uncounted.
    expect(outcomeOf(await onYealink[1]!.send('904', '1234'))).toBe('locked');
    for (let i = 0; i < 6; i++) {
      r.advance(60_000);
      expect(outcomeOf(await onYealink[i % 3]!.send(String(910 + i), '1234'))).toBe('locked');
    }
    const phoneFailures = r.h.agent.sqlite
      .queryAudit({ kinds: ['wrong-pin', 'refused'], phone: Y.mac, limit: 1000 })
      .filter((e) => e.kind === 'wrong-pin' || e.detail?.['reason'] === 'unknown-user');
    expect(phoneFailures).toHaveLength(5);
    // Other phones are not affected by this phone's lock.
    expect(outcomeOf(await c['pbx form (snom)']!.send('101', '4321'))).toBe('logged-in');
  });

  it('an unknown short number and a wrong PIN get identical answers on every channel', async () => {
    const r = await rig();
    for (const [name, { send }] of Object.entries(channels(r))) {
      // Same counter state for both: each starts after the previous failures aged out.
      r.advance(WINDOW + MIN);
      const unknown = await send('999', '1234');
      r.advance(WINDOW + MIN);
      const wrong = await send('200', '1111');
      expect(unknown, name).toEqual(wrong);
      expect(unknown.status, name).toBe(200);
      expect(outcomeOf(unknown), name).toBe('wrong-pin');
      expect(unknown.body, name).not.toMatch(/unknown|Sam|200/i);
    }
    // The audit log keeps the truth.
    const reasons = r.h.agent.sqlite.queryAudit({ kinds: ['refused'], limit: 100 }).map((e) => e.detail?.['reason']);
    expect(reasons.filter((x) => x === 'unknown-user')).toHaveLength(Object.keys(channels(r)).length);
  });

  it('hotdesk dial: the same output and exit code for an unknown short number and a wrong PIN', async () => {
    ensureBuilt();
    const dirs = [await demoDataDir(), await demoDataDir()];
    cleanups.push(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    for (const json of [[], ['--json']]) {
      const unknown = await runCli(['dial', '--phone', Y.mac, '*35*999*1234', ...json, '--data', dirs[0]!]);
      const wrong = await runCli(['dial', '--phone', Y.mac, '*35*200*1111', ...json, '--data', dirs[1]!]);
      expect(unknown).toEqual(wrong);
      expect(unknown.code).toBe(3);
      expect(unknown.stdout).toMatch(/wrong-pin/);
      expect(unknown.stdout).not.toMatch(/unknown|Sam/i);
    }
  }, 240_000);

  it('refused PINs on the screens and action URLs also count against the requesting address', async () => {
    const r = await rig();
    const token = encodeURIComponent(r.h.agent.sqlite.phoneRuntime(S.mac)?.screenToken ?? '');
    const from = (localAddress: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${r.h.base}${path}`, { localAddress, agent: false, headers: { 'user-agent': S.userAgent } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const path =
        i % 2
          ? `/xml/${S.mac}/${token}/submit?ext=${800 + i}&pin=1234`
          : `/action/${S.mac}/${token}/outgoing?mac=${S.mac}&remote=${encodeURIComponent(`sip:*35*${800 + i}*1234@pbx`)}`;
      statuses.push(await from('127.0.0.3', path));
      r.advance(1_000);
    }
    // 20 refusals (5 wrong-pin, then locked) within a minute block the source ...
    expect(statuses.slice(0, 20).every((x) => x === 200)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    // ... not another one.
    expect(await from('127.0.0.4', `/xml/${S.mac}/${token}/menu`)).toBe(200);
  });
});
