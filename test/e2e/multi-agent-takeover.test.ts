/**
 * "Many agents, one truth": one agent of a pair dies (SIGKILL) in the middle of a login storm, and
 * the other agent of the pool sends the re-syncs the dead one had claimed. Two built `hotdesk serve`
 * processes share one pool and one PostgreSQL database with `--sync-lease 3`. Thirty phones (UDP
 * sockets that record which agent sent each NOTIFY, by source port, and never answer, so nothing
 * confirms) first fetch their own secret file from A, so their pool is known and their address
 * proven. Then thirty logins go through A's PBX endpoint at once, and A is killed as soon as the last
 * one is acknowledged. On a shared store a phone's next attempt is never more than one lease away
 * (whoever claimed it), so within the lease and a margin B must have sent a check-sync NOTIFY to
 * every phone of the storm.
 */
import { describe, expect, it } from 'vitest';
import {
  BOOTSTRAP,
  type PhoneSocket,
  dial,
  eventually,
  fetchOwnFile,
  loadSite,
  macOf,
  mapLimit,
  phoneSocket,
  siteYaml,
  sql,
  startAgentProc,
  useMultiAgent,
} from './multi-agent-kit.js';

const { skip, cluster } = useMultiAgent('multi-agent takeover tests');

const PHONES = 30;
const LEASE_S = 3;
/** The surviving agent's sync tick (1 s) plus scheduling slack on a loaded 2-core machine. */
const MARGIN_MS = 4_000;

describe.skipIf(skip !== undefined)('an agent of a pair is killed mid-storm', () => {
  it('the other agent of the pool sends every re-sync within the lease', async () => {
    const socks: PhoneSocket[] = await Promise.all(Array.from({ length: PHONES }, () => phoneSocket(false)));
    const phones = socks.map((s, i) => ({ mac: macOf(0x100 + i), sipPort: s.port, ext: `${800 + i}`, sock: s }));
    const store = await loadSite(cluster(), siteYaml({ multipleLogin: 'move', users: phones.map((p) => ({ ext: p.ext })), phones }));
    const [a, b] = await Promise.all([
      startAgentProc({ store, name: 'agent-a', pool: 'office', syncLease: LEASE_S }),
      startAgentProc({ store, name: 'agent-b', pool: 'office', syncLease: LEASE_S }),
    ]);

    // Every phone fetches its own file from A once: pool "office", address 127.0.0.1, synced.
    await mapLimit(phones, 10, (p) => fetchOwnFile(a.base, p.mac, BOOTSTRAP));
    const ready = async (): Promise<number> =>
      (
        await sql<{ n: number }>(
          store.url,
          "SELECT count(*)::int AS n FROM phones WHERE served_pool = 'office' AND notify_ip = '127.0.0.1' AND sync_state = 'synced'",
        )
      )[0]?.n ?? 0;
    await eventually(async () => (await ready()) === PHONES, 10_000, 'every phone served by A and synced');
    expect(socks.every((s) => s.notifies.length === 0)).toBe(true);

    // The storm through A. B is held (SIGSTOP) meanwhile, so A, not B, claims the storm's re-syncs:
    // woken by LISTEN/NOTIFY, a running B would otherwise race A for them and the takeover would
    // depend on timing. A dies (SIGKILL) as soon as every login is acknowledged and it has sent a
    // NOTIFY; then B resumes, and only the lease frees A's claims.
    b.child.kill('SIGSTOP');
    const answers = await Promise.all(phones.map((p) => dial(a.base, p.mac, `*35*${p.ext}*1234`)));
    const fromA = (): number => phones.filter((p) => p.sock.senders().has(a.sipPort)).length;
    await eventually(() => fromA() > 0, 3_000, 'a NOTIFY from A').catch(() => undefined);
    await a.kill();
    const killedAt = Date.now();
    b.child.kill('SIGCONT');
    for (const [i, r] of answers.entries()) {
      expect(r.status, `${phones[i]?.mac}: ${JSON.stringify(r.body)}`).toBe(200);
      expect(r.body.outcome).toBe('logged-in');
    }

    // What A left behind: claims only a lease (or a retry) can free.
    const claims = await sql<{ mac: string; by: string | null }>(store.url, "SELECT mac, sync_claimed_by AS by FROM phones WHERE sync_state = 'pending'");
    const claimedByA = claims.filter((c) => c.by === 'agent-a').map((c) => c.mac);
    console.info(`takeover: at the kill A had claimed ${claimedByA.length} of ${PHONES} re-syncs and sent NOTIFYs to ${fromA()} phones`);
    expect(claims, 'every phone of the storm pending').toHaveLength(PHONES);
    expect(claimedByA.length, 'A claimed none of the storm (B was held): the takeover was not exercised').toBeGreaterThan(0);

    // B sends to every phone of the storm in time (from its own SIP port), those A had claimed included.
    const limitMs = LEASE_S * 1000 + MARGIN_MS;
    const missing = (): string[] => phones.filter((p) => !p.sock.senders().has(b.sipPort)).map((p) => p.mac);
    await eventually(() => missing().length === 0, killedAt + limitMs - Date.now(), "B's NOTIFY to every phone").catch((e: Error) => {
      throw new Error(`${e.message} within ${limitMs} ms of the kill: ${missing().length} missing: ${missing().join(' ')}\nB's output:\n${b.output()}`);
    });
    for (const mac of claimedByA) {
      const sock = phones.find((p) => p.mac === mac)?.sock;
      const takeover = sock?.notifies.find((n) => n.fromPort === b.sipPort);
      expect(takeover?.at, `B's NOTIFY to ${mac}, claimed by A`).toBeGreaterThanOrEqual(killedAt);
      expect(takeover?.at, `B's NOTIFY to ${mac}, claimed by A`).toBeLessThanOrEqual(killedAt + limitMs);
    }
    expect(phones.every((p) => [...p.sock.senders()].every((port) => port === a.sipPort || port === b.sipPort))).toBe(true);

    // Nothing confirmed: every phone still pending, now claimed by B.
    const after = await sql<{ by: string | null; state: string }>(store.url, 'SELECT sync_claimed_by AS by, sync_state AS state FROM phones');
    expect(
      after.every((r) => r.state === 'pending' && r.by === 'agent-b'),
      JSON.stringify(after),
    ).toBe(true);
  }, 60_000);
});
