/**
 * "Many agents, one truth": the same user logging in at two agents of one pool at the same instant
 * ends with exactly one session. Two built `hotdesk serve` processes share one PostgreSQL database;
 * each round fires one PBX dial at each agent (different phones, same user and PIN) at once. Under
 * `multipleLogin: move` both may answer logged-in (the later one moved the session); under `refuse`
 * exactly one answers logged-in and the other `already-logged-in`. Either way each agent lists
 * exactly one session of the user afterwards. A fresh user per round keeps the agents' dial dedupe
 * (same phone, same code within 10 s) out of the way.
 */
import { describe, expect, it } from 'vitest';
import { type AgentProc, api, dial, loadSite, macOf, sessions, siteYaml, startAgentProc, useMultiAgent } from './multi-agent-kit.js';

const ROUNDS = 10;
const { skip, cluster } = useMultiAgent('multi-agent same-user tests');

const users = Array.from({ length: ROUNDS }, (_, i) => ({ ext: `${500 + i}` }));
const P1 = macOf(1);
const P2 = macOf(2);

/** Ends every session (admin API), so the next round starts with nobody logged in. */
async function logoutAll(a: AgentProc): Promise<void> {
  for (const s of await sessions(a.base)) {
    const r = await api(a.base, `/api/v1/sessions/${s.phone}`, { method: 'DELETE' });
    expect(r.status, `logout ${s.phone}`).toBe(200);
  }
  expect(await sessions(a.base)).toEqual([]);
}

/** Runs the rounds under `policy`; returns the outcomes per round ([at A on P1, at B on P2]). */
async function race(policy: 'move' | 'refuse'): Promise<Array<[string, string]>> {
  const store = await loadSite(cluster(), siteYaml({ multipleLogin: policy, users, phones: [{ mac: P1 }, { mac: P2 }] }));
  const [a, b] = await Promise.all([startAgentProc({ store, name: 'agent-a', pool: 'ams' }), startAgentProc({ store, name: 'agent-b', pool: 'ams' })]);
  const outcomes: Array<[string, string]> = [];
  for (const { ext } of users) {
    const digits = `*35*${ext}*1234`;
    const [ra, rb] = await Promise.all([dial(a.base, P1, digits), dial(b.base, P2, digits)]);
    expect([ra.status, rb.status], `round ${ext}: ${JSON.stringify([ra.body, rb.body])}`).toEqual([200, 200]);
    expect([ra.body.duplicate, rb.body.duplicate]).toEqual([false, false]);
    const pair: [string, string] = [ra.body.outcome ?? '', rb.body.outcome ?? ''];
    outcomes.push(pair);
    // Exactly one session of the user, and both agents say so.
    const [sa, sb] = await Promise.all([sessions(a.base), sessions(b.base)]);
    const mine = sa.filter((s) => s.user === ext);
    expect(mine, `round ${ext}: sessions at A ${JSON.stringify(sa)} after ${pair.join(' / ')}`).toHaveLength(1);
    expect(sb.filter((s) => s.user === ext)).toEqual(mine);
    expect(sa).toHaveLength(1);
    if (policy === 'refuse') {
      expect(
        pair.filter((o) => o === 'logged-in'),
        `round ${ext}: ${pair.join(' / ')}`,
      ).toHaveLength(1);
      expect(
        pair.filter((o) => o === 'already-logged-in'),
        `round ${ext}: ${pair.join(' / ')}`,
      ).toHaveLength(1);
      // The session is on the phone whose dial answered logged-in.
      expect(mine[0]?.phone).toBe(pair[0] === 'logged-in' ? P1 : P2);
    } else {
      expect(
        pair.every((o) => o === 'logged-in'),
        `round ${ext}: ${pair.join(' / ')}`,
      ).toBe(true);
    }
    await logoutAll(a);
  }
  return outcomes;
}

describe.skipIf(skip !== undefined)('two agents, one user, the same instant', () => {
  it('multipleLogin move: exactly one session after every round', async () => {
    const outcomes = await race('move');
    expect(outcomes).toHaveLength(ROUNDS);
  }, 60_000);

  it('multipleLogin refuse: exactly one session and exactly one dial answered logged-in', async () => {
    const outcomes = await race('refuse');
    expect(outcomes).toHaveLength(ROUNDS);
  }, 60_000);
});
