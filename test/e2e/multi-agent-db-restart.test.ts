/**
 * "Many agents, one truth": PostgreSQL restarts while an agent is busy, and nothing the agent
 * acknowledged is lost. One built `hotdesk serve --store postgres://…` takes a stream of logins and
 * logouts through its PBX endpoint (one client per phone, each phone with users of its own) while
 * `pg_ctl restart -m fast` drops every connection. Requests in flight or arriving while the database
 * is down may fail (503 `store-unavailable`, or 500), never with a 200 that is then lost. Afterwards
 * the agent recovers by itself (/readyz 200, new dials succeed), the final sessions are what the
 * acknowledged outcomes say, and the audit holds every acknowledged login and logout, in order
 * (a failed request may or may not have committed: its event may be there or not).
 *
 * Each (phone, code) pair is dialled at most once per 10.5 s, so the agent's dial dedupe (same phone,
 * same code within 10 s answers the first outcome without acting) never answers for a dial.
 */
import { describe, expect, it } from 'vitest';
import { api, auditAll, dial, eventually, loadSite, macOf, sessions, siteYaml, sleep, startAgentProc, useMultiAgent } from './multi-agent-kit.js';

const { skip, cluster } = useMultiAgent('multi-agent database-restart tests');

const PHONES = 4;
const USERS_PER_PHONE = 40;
/** Least time between two requests of one client. */
const PACE_MS = 120;
/** A code is dialled again on the same phone only after the dedupe window (10 s) and a margin. */
const REUSE_MS = 10_500;

/** One request of the stream. */
interface Op {
  readonly kind: 'login' | 'logout';
  readonly user: string;
  readonly status: number;
  readonly outcome: string | undefined;
  readonly duplicate: boolean | undefined;
  /** Outcomes an acknowledged answer may have, given what the client knew when it sent the request. */
  readonly allowed: readonly string[];
  readonly at: number;
}

/** A phone's client: its users, what it believes is on the phone, and every request it made. */
interface Client {
  readonly mac: string;
  readonly users: readonly string[];
  next: number;
  /** The user the last acknowledged outcome left on the phone; null = nobody; undefined = unknown (the last request failed). */
  belief: string | null | undefined;
  readonly ops: Op[];
  readonly lastUse: Map<string, number>;
}

/** Audit kinds an acknowledged outcome must have written (in the decision's transaction). */
function eventOf(op: Op): string | null {
  if (op.status !== 200) return null;
  if (op.outcome === 'logged-in') return `login:${op.user}`;
  if (op.outcome === 'switched') return `switch:${op.user}`;
  if (op.outcome === 'logged-out') return `logout:${op.user}`;
  return null;
}

/** Audit events a failed request may have written (it may have committed before the failure). */
const mayHaveWritten = (op: Op): string[] => (op.kind === 'login' ? [`login:${op.user}`, `switch:${op.user}`] : [`logout:${op.user}`]);

/**
 * Runs one client until `stop()` says so and its last request was acknowledged (or `abort()`). Known empty or
 * unknown phone: log a fresh user in (`*35*X*PIN`: logged-in, or switched when a failed request had
 * left someone there); known user X: log X out (`*35*X`).
 */
async function runClient(base: string, c: Client, stop: () => boolean, abort: () => boolean): Promise<void> {
  for (;;) {
    const last = c.ops.at(-1);
    if (abort() || (stop() && last !== undefined && last.status === 200)) return;
    const started = Date.now();
    const logout = typeof c.belief === 'string';
    const user = logout ? (c.belief as string) : (c.users[c.next++ % c.users.length] as string);
    const digits = logout ? `*35*${user}` : `*35*${user}*1234`;
    const key = `${logout ? 'out' : 'in'}:${user}`;
    const wait = (c.lastUse.get(key) ?? 0) + REUSE_MS - Date.now();
    if (wait > 0) await sleep(wait);
    c.lastUse.set(key, Date.now());
    // Logging out the user the last acknowledged answer left there must log them out; a login on a
    // phone known empty must log in; after a failure a login may also switch from whoever is there.
    const allowed = logout ? ['logged-out'] : c.belief === null ? ['logged-in'] : ['logged-in', 'switched'];
    const r = await dial(base, c.mac, digits);
    c.ops.push({ kind: logout ? 'logout' : 'login', user, status: r.status, outcome: r.body.outcome, duplicate: r.body.duplicate, allowed, at: Date.now() });
    if (r.status !== 200) c.belief = undefined;
    else if (r.body.outcome === 'logged-in' || r.body.outcome === 'switched') c.belief = user;
    else if (r.body.outcome === 'logged-out') c.belief = null;
    else c.belief = undefined; // not an allowed outcome: reported below
    await sleep(Math.max(0, PACE_MS - (Date.now() - started)));
  }
}

/**
 * Checks the phone's audit events (login/logout/switch, oldest first) against its requests: every
 * acknowledged change has its event, in request order; every event belongs to a request (acknowledged,
 * or failed but committed). Returns the problems found.
 */
function matchAudit(c: Client, events: readonly string[]): string[] {
  const problems: string[] = [];
  let i = 0;
  for (const ev of events) {
    let j = i;
    while (j < c.ops.length && !(eventOf(c.ops[j] as Op) === ev || ((c.ops[j] as Op).status !== 200 && mayHaveWritten(c.ops[j] as Op).includes(ev)))) j++;
    if (j === c.ops.length) {
      problems.push(`${c.mac}: audit event ${ev} matches no request after #${i}`);
      continue;
    }
    for (let k = i; k < j; k++) {
      const want = eventOf(c.ops[k] as Op);
      if (want !== null) problems.push(`${c.mac}: acknowledged ${want} (request #${k}) has no audit event`);
    }
    i = j + 1;
  }
  for (let k = i; k < c.ops.length; k++) {
    const want = eventOf(c.ops[k] as Op);
    if (want !== null) problems.push(`${c.mac}: acknowledged ${want} (request #${k}) has no audit event`);
  }
  return problems;
}

describe.skipIf(skip !== undefined)('PostgreSQL restarts under load', () => {
  it('nothing acknowledged is lost and the agent recovers by itself', async () => {
    const clients: Client[] = Array.from({ length: PHONES }, (_, p) => ({
      mac: macOf(0x200 + p),
      users: Array.from({ length: USERS_PER_PHONE }, (_, u) => `${(p + 1) * 1000 + u}`),
      next: 0,
      belief: null,
      ops: [],
      lastUse: new Map(),
    }));
    const store = await loadSite(
      cluster(),
      siteYaml({ multipleLogin: 'move', users: clients.flatMap((c) => c.users.map((ext) => ({ ext }))), phones: clients.map((c) => ({ mac: c.mac })) }),
    );
    const agent = await startAgentProc({ store, name: 'agent-solo', pool: 'office' });
    expect((await api(agent.base, '/readyz')).status).toBe(200);

    let stopping = false;
    let aborted = false;
    const running = Promise.all(
      clients.map((c) =>
        runClient(
          agent.base,
          c,
          () => stopping,
          () => aborted,
        ),
      ),
    );
    const acked = (): number => clients.reduce((n, c) => n + c.ops.filter((o) => o.status === 200).length, 0);
    /** What the agent printed and each client's last requests, for a failure message. */
    const report = (e: Error): Error =>
      new Error(
        `${e.message}\n${clients
          .map(
            (c) =>
              `${c.mac}: ${c.ops
                .slice(-6)
                .map((o) => `${o.kind} ${o.user} ${o.status} ${o.outcome ?? ''}`)
                .join(' | ')}`,
          )
          .join('\n')}\nagent output:\n${agent.output().slice(-6000)}`,
      );
    let restartAt = 0;
    let restartedAt = 0;
    let recoveredAt = 0;
    try {
      await eventually(() => acked() >= 20, 15_000, 'requests acknowledged before the restart');
      restartAt = Date.now();
      await cluster().restart();
      restartedAt = Date.now();
      // Recovers by itself: ready again and new dials acknowledged.
      await eventually(
        async () => {
          if (agent.child.exitCode !== null || agent.child.signalCode !== null)
            throw new Error(`the agent exited (${agent.child.exitCode ?? agent.child.signalCode})`);
          return (await api(agent.base, '/readyz')).status === 200;
        },
        20_000,
        '/readyz 200 after the restart',
      );
      const ackedAtRecovery = acked();
      await eventually(() => acked() >= ackedAtRecovery + 2 * PHONES, 20_000, 'dials acknowledged after the restart');
      recoveredAt = Date.now();
      stopping = true;
      await Promise.race([running, sleep(15_000).then(() => Promise.reject(new Error('clients did not finish with an acknowledged request')))]);
    } catch (e) {
      throw report(e as Error);
    } finally {
      stopping = true;
      aborted = true;
    }

    const all = clients.flatMap((c) => c.ops.map((o) => ({ ...o, mac: c.mac })));
    const failed = all.filter((o) => o.status !== 200);
    console.info(
      `db restart: ${all.length} requests, ${all.length - failed.length} acknowledged, ${failed.length} failed (${[...new Set(failed.map((o) => o.status))].join(', ')}); ` +
        `restart took ${restartedAt - restartAt} ms, recovered ${recoveredAt - restartedAt} ms later`,
    );
    // Failures only as store-unavailable (503) or an internal error (500), and only around the restart.
    expect(
      failed.filter((o) => o.status !== 503 && o.status !== 500),
      'failures other than 503/500',
    ).toEqual([]);
    expect(
      failed.filter((o) => o.at < restartAt || o.at > recoveredAt),
      'failures outside the restart',
    ).toEqual([]);
    // Every acknowledged answer is a real decision with the expected outcome.
    const acks = all.filter((o) => o.status === 200);
    expect(acks.filter((o) => o.duplicate !== false)).toEqual([]);
    expect(acks.filter((o) => !o.allowed.includes(o.outcome ?? ''))).toEqual([]);

    // The final state is what each phone's last acknowledged outcome says.
    const final = await sessions(agent.base);
    const expected = clients.filter((c) => typeof c.belief === 'string').map((c) => ({ phone: c.mac, user: c.belief }));
    expect(final.map((s) => ({ phone: s.phone, user: s.user })).sort((x, y) => x.phone.localeCompare(y.phone))).toEqual(expected);

    // Every acknowledged login and logout has its audit event, in order.
    const problems: string[] = [];
    for (const c of clients) {
      const events = (await auditAll(agent.base, `phone=${c.mac}&kind=login,logout,switch`)).map((e) => `${e.kind}:${e.user}`);
      problems.push(...matchAudit(c, events));
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
