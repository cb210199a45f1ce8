/**
 * "Many agents, one truth": a person logged in at one office's desk logs in at another office, and
 * the first desk is logged out and re-provisioned by the agent of ITS office. Agent A serves pool
 * `ams`, agent B pool `utr`, both on one PostgreSQL database. Phone U proves B reaches it (it fetches
 * its own secret file from B, so it belongs to pool `utr`), phone M does the same at A. The user logs
 * in on U through B's PBX endpoint, then on M through A's (`multipleLogin: move`): A decides, but the
 * check-sync NOTIFY to U must come from B (its source port is B's SIP port), U's fetch of the new
 * revision at B confirms the sync, and the audit names the agent of every event.
 */
import { describe, expect, it } from 'vitest';
import {
  type AgentProc,
  type AuditRow,
  BOOTSTRAP,
  type PhoneSocket,
  auditAll,
  dial,
  eventually,
  fetchOwnFile,
  loadSite,
  macOf,
  ownCredential,
  phoneSocket,
  phoneSync,
  sessions,
  siteYaml,
  startAgentProc,
  useMultiAgent,
} from './multi-agent-kit.js';

const { skip, cluster } = useMultiAgent('multi-agent cross-site tests');

const EXT = '700';
const U = macOf(0x10);
const M = macOf(0x20);
/** The line of a Yealink file that carries the user's SIP account. */
const USER_LINE = new RegExp(`^account\\.1\\.user_name = ${EXT}$`, 'm');

/** Waits for the `n`-th NOTIFY on `sock` (1-based) and returns it. */
async function nthNotify(sock: PhoneSocket, n: number, what: string): Promise<PhoneSocket['notifies'][number]> {
  return eventually(() => sock.notifies[n - 1], 15_000, what);
}

/** Waits until the phone reports `synced` at `revision`. */
async function syncedAt(agent: AgentProc, mac: string, revision: number): Promise<void> {
  await eventually(
    async () => {
      const s = await phoneSync(agent.base, mac);
      return s.state === 'synced' && s.revision === revision;
    },
    10_000,
    `${mac} synced at revision ${revision}`,
  );
}

/** The phone's audit events, oldest first, as `kind@agent`. */
const trail = (events: readonly AuditRow[]): string[] => events.map((e) => `${e.kind}@${e.agent ?? '?'}`);

describe.skipIf(skip !== undefined)('cross-site move between two pools', () => {
  it("the old desk is logged out, notified and confirmed by its own pool's agent", async () => {
    const [sockU, sockM] = await Promise.all([phoneSocket(true), phoneSocket(true)]);
    const store = await loadSite(
      cluster(),
      siteYaml({
        multipleLogin: 'move',
        users: [{ ext: EXT, name: 'Pat Traveller' }],
        phones: [
          { mac: U, sipPort: sockU.port },
          { mac: M, sipPort: sockM.port },
        ],
      }),
    );
    const [a, b] = await Promise.all([startAgentProc({ store, name: 'agent-ams', pool: 'ams' }), startAgentProc({ store, name: 'agent-utr', pool: 'utr' })]);
    expect(a.sipPort).not.toBe(b.sipPort);

    // U proves B reaches it; M proves A reaches it (first fetch with the bootstrap credential).
    const credU = ownCredential(await fetchOwnFile(b.base, U, BOOTSTRAP));
    const credM = ownCredential(await fetchOwnFile(a.base, M, BOOTSTRAP));
    const first = await phoneSync(b.base, U);
    await syncedAt(b, U, first.revision);

    // The user logs in on U through B; B notifies U, U fetches (own credential) and is synced.
    const login = await dial(b.base, U, `*35*${EXT}*1234`);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.outcome).toBe('logged-in');
    const afterLogin = await phoneSync(b.base, U);
    expect(afterLogin.revision).toBeGreaterThan(first.revision);
    expect((await nthNotify(sockU, 1, 'the NOTIFY of the login to U')).fromPort).toBe(b.sipPort);
    expect(await fetchOwnFile(b.base, U, credU)).toMatch(USER_LINE);
    await syncedAt(b, U, afterLogin.revision);
    const notifiesBefore = sockU.notifies.length;

    // The same user logs in on M through A: moved off U.
    const move = await dial(a.base, M, `*35*${EXT}*1234`);
    expect(move.status, JSON.stringify(move.body)).toBe(200);
    expect(move.body.outcome).toBe('logged-in');
    for (const agent of [a, b]) expect(await sessions(agent.base)).toEqual([expect.objectContaining({ phone: M, user: EXT })]);
    const moved = await phoneSync(a.base, U);
    expect(moved.revision).toBeGreaterThan(afterLogin.revision);
    expect(moved.user).toBeNull();

    // B (pool utr), not A, tells U to re-sync; A tells M.
    const toU = await nthNotify(sockU, notifiesBefore + 1, 'the NOTIFY of the move to U');
    expect(toU.fromPort, `NOTIFY to U from port ${toU.fromPort}; A is ${a.sipPort}, B is ${b.sipPort}`).toBe(b.sipPort);
    expect(sockU.senders()).toEqual(new Set([b.sipPort]));
    await nthNotify(sockM, 1, 'the NOTIFY of the login to M');
    expect(sockM.senders()).toEqual(new Set([a.sipPort]));

    // U fetches its new revision from B: logged out in the file, synced in the store.
    expect(await fetchOwnFile(b.base, U, credU)).not.toMatch(USER_LINE);
    await syncedAt(b, U, moved.revision);
    expect(await fetchOwnFile(a.base, M, credM)).toMatch(USER_LINE);
    await syncedAt(a, M, (await phoneSync(a.base, M)).revision);

    // The audit, read at either agent, names who wrote each event.
    const eventsU = await eventually(
      async () => {
        const ev = await auditAll(a.base, `phone=${U}`);
        return ev.some((e) => e.kind === 'sync-confirmed' && e.detail?.['revision'] === moved.revision) ? ev : undefined;
      },
      10_000,
      "U's sync-confirmed of the move",
    );
    expect(await auditAll(b.base, `phone=${U}`)).toEqual(eventsU);
    const ofU = trail(eventsU);
    expect(ofU, ofU.join(' ')).toContain('login@agent-utr');
    const logout = eventsU.find((e) => e.kind === 'logout');
    expect(logout, ofU.join(' ')).toMatchObject({ user: EXT, agent: 'agent-ams' });
    const afterMove = eventsU.filter((e) => logout !== undefined && e.id > logout.id);
    expect(afterMove.filter((e) => e.kind === 'sync-sent').map((e) => e.agent)).toContain('agent-utr');
    expect(afterMove.filter((e) => e.kind === 'sync-sent' || e.kind === 'sync-confirmed' || e.kind === 'secret-served').map((e) => e.agent)).not.toContain(
      'agent-ams',
    );
    expect(afterMove.find((e) => e.kind === 'sync-confirmed' && e.detail?.['revision'] === moved.revision)?.agent).toBe('agent-utr');
    const ofM = trail(await auditAll(a.base, `phone=${M}`));
    expect(ofM, ofM.join(' ')).toContain('login@agent-ams');
  }, 60_000);
});
