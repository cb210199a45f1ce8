/**
 * The PostgreSQL connection layer (agent/store/postgres/pg-db.ts) against a real server: statements
 * join the transaction of their async context, nested transactions are savepoints, the outermost is
 * re-run after a real serialization failure or deadlock, after-commit hooks never run on rollback,
 * connection failures are `store-unavailable` without the password, and close() is clean.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { HotdeskError } from '../../../agent/core/errors.js';
import { MAX_TRANSACTION_RETRIES, PgConnection, redactUrl } from '../../../agent/store/postgres/pg-db.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../../helpers/postgres.js';

const why = postgresUnavailable();
if (why !== undefined) console.warn(`skipping PostgreSQL connection tests: ${why}`);

/** A promise and its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves once `n` parties have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  const all = deferred();
  return () => {
    if (++arrived >= n) all.resolve();
    return all.promise;
  };
}

/** Rows of `sql` on a fresh connection outside the code under test. */
async function outside(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/** A port nothing listens on (a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A server-side error with SQLSTATE 40001 (what a serialization failure looks like to the client). */
const RAISE_40001 = "DO $$ BEGIN RAISE EXCEPTION 'simulated serialization failure' USING ERRCODE = '40001'; END $$";

describe.skipIf(why !== undefined)('PgConnection', () => {
  let cluster: PgCluster;
  let url: string;
  let db: PgConnection;

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('pgdb');
    db = new PgConnection({ url, agentId: 'agent-a' });
    await db.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    await db.query('CREATE TABLE big (n BIGINT)');
  });
  afterAll(async () => {
    await db?.close();
    await cluster?.stop();
  });
  beforeEach(async () => {
    await db.query('TRUNCATE t, big');
  });

  test('query, one and run outside a transaction; int8 arrives as a number', async () => {
    expect(await db.run('INSERT INTO t (id, v) VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b'])).toBe(2);
    expect(await db.query('SELECT id, v FROM t ORDER BY id')).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
    expect(await db.one('SELECT v FROM t WHERE id = $1', [2])).toEqual({ v: 'b' });
    expect(await db.one('SELECT v FROM t WHERE id = $1', [3])).toBeUndefined();
    await db.run('INSERT INTO big (n) VALUES ($1)', [1_700_000_000_123]);
    expect(await db.one('SELECT n, count(*) OVER () AS c, ARRAY[n, NULL, 7]::bigint[] AS a FROM big')).toEqual({
      n: 1_700_000_000_123,
      c: 1,
      a: [1_700_000_000_123, null, 7],
    });
    expect(db.agentId).toBe('agent-a');
  });

  test('statements inside a transaction use its connection, even from timers and in parallel, and stay unseen until commit', async () => {
    const seen = deferred();
    const done = db.transaction(async () => {
      const pid = (await db.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.pid;
      await db.run("INSERT INTO t (id, v) VALUES (1, 'x')");
      const pids = await Promise.all([
        db.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
        new Promise<{ pid: number } | undefined>((resolve) => setTimeout(() => resolve(db.one('SELECT pg_backend_pid() AS pid')), 5)),
      ]);
      expect(pids.map((p) => p?.pid)).toEqual([pid, pid]);
      expect(db.inTransaction()).toBe(true);
      expect(await db.query('SELECT id FROM t')).toEqual([{ id: 1 }]);
      await seen.promise;
      return 'ok';
    });
    // another connection (and this one outside the transaction) does not see the uncommitted row
    expect(db.inTransaction()).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect(await db.query('SELECT id FROM t')).toEqual([]);
    expect(await outside(url, 'SELECT id FROM t')).toEqual([]);
    seen.resolve();
    expect(await done).toBe('ok');
    expect(await outside(url, 'SELECT id FROM t')).toEqual([{ id: 1 }]);
  });

  test('a throw rolls the transaction back and rethrows unchanged', async () => {
    const boom = new HotdeskError('conflict', 'boom');
    await expect(
      db.transaction(async () => {
        await db.run("INSERT INTO t (id, v) VALUES (1, 'x')");
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await db.query('SELECT id FROM t')).toEqual([]);
    // an SQL error keeps its SQLSTATE
    await expect(db.transaction(() => db.run('INSERT INTO t (id) VALUES (1), (1)'))).rejects.toMatchObject({ code: '23505' });
  });

  test('nested transactions are savepoints: an inner failure rolls back only the inner part', async () => {
    const value = await db.transaction(async () => {
      await db.run("INSERT INTO t (id, v) VALUES (1, 'outer')");
      await expect(
        db.transaction(async () => {
          await db.run("INSERT INTO t (id, v) VALUES (2, 'inner-failed')");
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      // an SQL error inside a savepoint leaves the outer transaction usable
      await expect(db.transaction(() => db.run('INSERT INTO t (id) VALUES (1)'))).rejects.toMatchObject({ code: '23505' });
      const inner = await db.transaction(async () => {
        await db.run("INSERT INTO t (id, v) VALUES (3, 'inner-ok')");
        return db.transaction(async () => (await db.query('SELECT id FROM t ORDER BY id')).map((r) => r['id']));
      });
      expect(inner).toEqual([1, 3]);
      // savepoints started together run one after the other on the one connection
      await Promise.all([4, 5, 6].map((id) => db.transaction(() => db.run('INSERT INTO t (id, v) VALUES ($1, $2)', [id, 'parallel']))));
      return 'done';
    });
    expect(value).toBe('done');
    expect(await db.query('SELECT id, v FROM t ORDER BY id')).toEqual([
      { id: 1, v: 'outer' },
      { id: 3, v: 'inner-ok' },
      { id: 4, v: 'parallel' },
      { id: 5, v: 'parallel' },
      { id: 6, v: 'parallel' },
    ]);
  });

  test('a nested transaction left running after its outer one ended never touches the returned connection', async () => {
    const gate = deferred();
    const outcome = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'resolved',
        (e: unknown) => String(e),
      );
    let first: Promise<string> | undefined;
    let second: Promise<string> | undefined;
    await db.transaction(async () => {
      first = outcome(
        db.transaction(async () => {
          await gate.promise;
          await db.run("INSERT INTO t (id, v) VALUES (7, 'late')");
        }),
      );
      second = outcome(db.transaction(() => db.run("INSERT INTO t (id, v) VALUES (8, 'late')")));
    });
    gate.resolve();
    expect(await first).toMatch(/the transaction has ended/);
    expect(await second).toMatch(/the transaction has ended/);
    expect(await db.query('SELECT id FROM t')).toEqual([]);
  });

  test('afterCommit: after the outermost commit, never on rollback, at once outside a transaction', async () => {
    const heard: string[] = [];
    db.afterCommit(() => heard.push('outside'));
    expect(heard).toEqual(['outside']);

    await db.transaction(async () => {
      db.afterCommit(() => heard.push('outer'));
      await db.transaction(async () => {
        db.afterCommit(() => heard.push('kept savepoint'));
      });
      await db
        .transaction(async () => {
          db.afterCommit(() => heard.push('rolled-back savepoint'));
          throw new Error('undo');
        })
        .catch(() => undefined);
      db.afterCommit(() => {
        throw new Error('a failing hook does not fail the commit');
      });
      expect(heard).toEqual(['outside']);
    });
    expect(heard).toEqual(['outside', 'outer', 'kept savepoint']);

    await expect(
      db.transaction(async () => {
        db.afterCommit(() => heard.push('rolled back'));
        await db.run("INSERT INTO t (id, v) VALUES (1, 'x')");
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(heard).toEqual(['outside', 'outer', 'kept savepoint']);
  });

  test('a real serialization failure between two SERIALIZABLE transactions re-runs the loser, whose hooks run once', async () => {
    await db.run("INSERT INTO t (id, v) VALUES (1, 'doctor'), (2, 'doctor')");
    // Write skew: each reads both rows, then takes one doctor off duty; together they would leave none.
    const bothRead = barrier(2);
    const runs = { a: 0, b: 0 };
    const hooks: string[] = [];
    const offDuty = (name: 'a' | 'b', id: number) =>
      db.transaction(async () => {
        const first = runs[name]++ === 0;
        db.afterCommit(() => hooks.push(name));
        const onDuty = (await db.query("SELECT id FROM t WHERE v = 'doctor'")).length;
        if (first) await bothRead();
        if (onDuty < 2) return `${name}: stays`;
        await db.run("UPDATE t SET v = 'off' WHERE id = $1", [id]);
        return `${name}: off`;
      });
    const results = await Promise.all([offDuty('a', 1), offDuty('b', 2)]);
    // exactly one transaction failed with 40001 and was re-run; on its re-run it saw the other's commit
    expect(runs.a + runs.b).toBe(3);
    const loser = runs.a === 2 ? 'a' : 'b';
    expect(results).toContain(`${loser}: stays`);
    expect(results).toContain(`${loser === 'a' ? 'b' : 'a'}: off`);
    expect(await db.query("SELECT id FROM t WHERE v = 'doctor'")).toHaveLength(1);
    expect(hooks.sort()).toEqual(['a', 'b']);
  });

  test('a real deadlock re-runs the transaction the server chose as victim', async () => {
    await db.run("INSERT INTO t (id, v) VALUES (1, 'one'), (2, 'two')");
    const bothLocked = barrier(2);
    let runs = 0;
    const lockBoth = (first: number, second: number) =>
      db.transaction(async () => {
        const initial = runs++ < 2;
        await db.run('UPDATE t SET v = v || $2 WHERE id = $1', [first, '+']);
        if (initial) await bothLocked();
        await db.run('UPDATE t SET v = v || $2 WHERE id = $1', [second, '+']);
      }, 'read committed');
    await Promise.all([lockBoth(1, 2), lockBoth(2, 1)]);
    expect(runs).toBe(3);
    expect(await db.query('SELECT v FROM t ORDER BY id')).toEqual([{ v: 'one++' }, { v: 'two++' }]);
  }, 20_000);

  test('a serialization failure caught inside still re-runs the whole transaction', async () => {
    let runs = 0;
    const result = await db.transaction(async () => {
      runs++;
      await db.run('INSERT INTO t (id, v) VALUES ($1, $2)', [runs, 'attempt']);
      if (runs === 1) await db.transaction(() => db.query(RAISE_40001)).catch(() => undefined);
      return runs;
    });
    expect(result).toBe(2);
    expect(await db.query('SELECT id FROM t')).toEqual([{ id: 2 }]);
  });

  test(`gives up after ${MAX_TRANSACTION_RETRIES} re-runs and throws the serialization failure`, async () => {
    let runs = 0;
    const ran: string[] = [];
    await expect(
      db.transaction(async () => {
        runs++;
        db.afterCommit(() => ran.push('hook'));
        await db.query(RAISE_40001);
      }),
    ).rejects.toMatchObject({ code: '40001' });
    expect(runs).toBe(MAX_TRANSACTION_RETRIES + 1);
    expect(ran).toEqual([]);
    // other errors are not retried
    runs = 0;
    await expect(
      db.transaction(async () => {
        runs++;
        throw new Error('plain');
      }),
    ).rejects.toThrow('plain');
    expect(runs).toBe(1);
  });

  test('a database out of reach is store-unavailable whose message and detail hide the password', async () => {
    const port = await closedPort();
    const secretUrl = `postgres://hotdesk:Sup3r-S3cret@127.0.0.1:${port}/hotdesk`;
    const down = new PgConnection({ url: secretUrl, agentId: 'agent-x', connectTimeoutMs: 2_000 });
    try {
      for (const attempt of [() => down.query('SELECT 1'), () => down.transaction(() => down.query('SELECT 1'))]) {
        const e = await attempt().then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(HotdeskError);
        const err = e as HotdeskError;
        expect(err.code).toBe('store-unavailable');
        expect(JSON.stringify(err.toJSON())).not.toContain('Sup3r-S3cret');
        expect(err.message).toContain(`postgres://hotdesk:***@127.0.0.1:${port}/hotdesk`);
        expect(err.detail['url']).toBe(`postgres://hotdesk:***@127.0.0.1:${port}/hotdesk`);
      }
    } finally {
      await down.close();
    }
    expect(redactUrl('host=db.example user=hotdesk password=Sup3r-S3cret dbname=x')).toBe('host=db.example user=hotdesk password=*** dbname=x');
    expect(redactUrl('postgres://db.example/x')).toBe('postgres://db.example/x');
  });

  test('close() waits for a transaction in flight, then refuses new work with storage-error; twice is fine', async () => {
    const other = new PgConnection({ url, agentId: 'agent-b', max: 2 });
    const started = deferred();
    const inFlight = other.transaction(async () => {
      started.resolve();
      await new Promise((r) => setTimeout(r, 50));
      await other.run("INSERT INTO t (id, v) VALUES (9, 'late')");
      return 'committed';
    });
    await started.promise;
    const closing = other.close();
    expect(await inFlight).toBe('committed');
    await closing;
    await other.close();
    await expect(other.query('SELECT 1')).rejects.toMatchObject({ code: 'storage-error' });
    await expect(other.transaction(() => other.query('SELECT 1'))).rejects.toMatchObject({ code: 'storage-error' });
    expect(await db.query('SELECT v FROM t WHERE id = 9')).toEqual([{ v: 'late' }]);
  });
});
