import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

import { ConsoleLogger, Logger } from '@nestjs/common';

import type { Database } from './database';
import { DatabaseUnavailableError } from './database-unavailable';
import { migrate } from './migrate';
import { openDatabase } from './open-database';
import { PostgresDatabase, PreparedStatements } from './postgres-database';
import { createScratchPostgresDatabase, type ScratchDatabase } from './scratch-postgres';

/** Asserts that `call` fails as a {@link DatabaseUnavailableError} (a 503) whose cause matches `cause`. */
async function expectUnavailable(call: Promise<unknown>, cause: RegExp): Promise<void> {
  const failure = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(DatabaseUnavailableError);
  expect(String((failure as Error).cause)).toMatch(cause);
}

/** A promise and the function that resolves it (Promise.withResolvers, which Node 20 lacks). */
function latch(): { done: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

/**
 * Runs `sql` in a transaction of `database` and holds it open (with the locks `sql` took) until the
 * returned function is called, which ends it.
 */
async function holdInTransaction(
  database: Database,
  sql: string,
  params: readonly unknown[],
): Promise<() => Promise<void>> {
  const canGo = latch();
  const holding = latch();
  const holder = database.transaction(async (tx) => {
    await tx.query(sql, params);
    holding.open();
    await canGo.done;
  });
  await holding.done;
  return async () => {
    canGo.open();
    await holder;
  };
}

describe('PreparedStatements', () => {
  it('names each parameterised text once, and the same text always alike', () => {
    const statements = new PreparedStatements(10);
    const first = statements.config('SELECT $1::int', [1]);
    const other = statements.config('SELECT $1::text', ['a']);
    expect(first).toEqual({ name: 's1', text: 'SELECT $1::int', values: [1] });
    expect(other).toEqual({ name: 's2', text: 'SELECT $1::text', values: ['a'] });
    expect(statements.config('SELECT $1::int', [2])).toEqual({
      name: 's1',
      text: 'SELECT $1::int',
      values: [2],
    });
  });

  it('leaves SQL without parameters unnamed: a script of several commands cannot be prepared', () => {
    expect(new PreparedStatements(10).config('CREATE TABLE a (x int); CREATE TABLE b (y int)', [])).toEqual({
      text: 'CREATE TABLE a (x int); CREATE TABLE b (y int)',
      values: [],
    });
  });

  it('runs texts past its capacity unnamed', () => {
    const statements = new PreparedStatements(1);
    statements.config('SELECT $1::int', [1]);
    expect(statements.config('SELECT $1::text', ['a'])).toEqual({ text: 'SELECT $1::text', values: ['a'] });
  });
});

describe('PostgresDatabase on PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let database: Database;

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    database = await openDatabase({
      url: scratch.url,
      migrations: [
        // a migration of two commands: run as a script, never prepared
        {
          id: '0001-stock',
          sql: `CREATE TABLE stock (sku text PRIMARY KEY, available integer NOT NULL);
                INSERT INTO stock (sku, available) VALUES ('apple', 5), ('pear', 2)`,
        },
      ],
    });
  });

  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('prepares a parameterised statement once per connection and answers from it every time', async () => {
    const prepared = await database.transaction(async (tx) => {
      expect(await tx.query('SELECT available FROM stock WHERE sku = $1', ['apple'])).toEqual([
        { available: 5 },
      ]);
      expect(await tx.query('SELECT available FROM stock WHERE sku = $1', ['pear'])).toEqual([
        { available: 2 },
      ]);
      return tx.query<{ statement: string }>(
        "SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%FROM stock%'",
      );
    });
    expect(prepared).toEqual([{ statement: 'SELECT available FROM stock WHERE sku = $1' }]);
  });

  it('runs its statements and transactions READ COMMITTED on a server whose default is SERIALIZABLE', async () => {
    const name = new URL(scratch.url).pathname.slice(1);
    await database.query(`ALTER DATABASE "${name}" SET default_transaction_isolation = 'serializable'`);
    const strict = await openDatabase({ url: scratch.url, migrations: [] });
    try {
      expect(await strict.query('SHOW transaction_isolation')).toEqual([
        { transaction_isolation: 'read committed' },
      ]);
      expect(await strict.transaction((tx) => tx.query('SHOW transaction_isolation'))).toEqual([
        { transaction_isolation: 'read committed' },
      ]);
    } finally {
      await strict.close();
      await database.query(`ALTER DATABASE "${name}" RESET default_transaction_isolation`);
    }
  });

  it('answers the same statement on every connection of the pool, and in transactions', async () => {
    const levels = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        index % 2 === 0
          ? database.query<{ available: number }>('SELECT available FROM stock WHERE sku = $1', ['apple'])
          : database.transaction((tx) =>
              tx.query<{ available: number }>('SELECT available FROM stock WHERE sku = $1', ['apple']),
            ),
      ),
    );
    expect(levels.flat()).toEqual(Array.from({ length: 20 }, () => ({ available: 5 })));
  });

  it('reports a failing prepared statement and keeps the connection usable', async () => {
    await expect(
      database.query('UPDATE stock SET available = $2 WHERE sku = $1', ['apple', 'not a number']),
    ).rejects.toThrow(/invalid input syntax for type integer/);
    await expect(
      database.query('UPDATE stock SET available = $2 WHERE sku = $1', ['apple', 4]),
    ).resolves.toEqual([]);
    expect(await database.query('SELECT available FROM stock WHERE sku = $1', ['apple'])).toEqual([
      { available: 4 },
    ]);
  });

  describe('a migration meeting a long transaction on its table', () => {
    /** Holds `stock` (ACCESS SHARE, as a long report would) until the returned release is called. */
    const holdStockTable = (): Promise<() => Promise<void>> =>
      holdInTransaction(database, 'SELECT count(*) FROM stock WHERE sku <> $1', ['']);
    /** Adds a column to `stock`, each attempt waiting `lockTimeoutMs` for it. */
    const addNoteColumn = (attempts: number, pauseMs: number): Promise<string[]> =>
      migrate(database, [{ id: '0002-column', sql: 'ALTER TABLE stock ADD COLUMN note text' }], {
        lockTimeoutMs: 100,
        attempts,
        pauseMs,
      });

    // before, the ALTER waited for the holder for ever, and every statement on stock behind it
    it('gives up its attempts after the lock timeout, changing nothing, and says why', async () => {
      const release = await holdStockTable();
      try {
        await expect(addNoteColumn(2, 10)).rejects.toThrow(
          /could not lock their tables in 2 attempts of 100 ms/,
        );
      } finally {
        await release();
      }
      const applied = await database.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
      expect(applied.map((row) => row.id)).toEqual(['0001-stock']);
      expect(
        await database.query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'stock' AND column_name = 'note'",
        ),
      ).toEqual([]);
    });

    it('applies it on a later attempt once the table is free', async () => {
      const release = await holdStockTable();
      const released = new Promise<void>((resolve) => setTimeout(() => void release().then(resolve), 300));
      try {
        await expect(addNoteColumn(50, 20)).resolves.toEqual(['0002-column']);
      } finally {
        await released;
      }
    });
  });

  // /health/ready's probe: a burst holding every pooled connection is load, not an outage
  it('answers a ping while every pooled connection is busy, without waiting for one', async () => {
    const POOL_SIZE = 10;
    const holdersCanGo = latch();
    const allHolding = latch();
    let holding = 0;
    const holders = Array.from({ length: POOL_SIZE }, () =>
      database.transaction(async (tx) => {
        await tx.query('SELECT $1::int AS held', [1]);
        if (++holding === POOL_SIZE) allHolding.open();
        await holdersCanGo.done;
      }),
    );
    await allHolding.done;
    try {
      // before, the ping queued behind the holders until the pool gave up on it (5 s)
      await expect(database.ping()).resolves.toBeUndefined();
    } finally {
      holdersCanGo.open();
      await Promise.all(holders);
    }
  });

  // pg-pool listens for a client's errors only while it sits idle in the pool: a server connection
  // lost inside a transaction used to emit an unhandled 'error' and end the whole process
  it('survives losing its server connection inside a transaction, and drops that connection', async () => {
    const lostPids: number[] = [];
    await expectUnavailable(
      database.transaction(async (tx) => {
        const [{ pid }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        lostPids.push(pid);
        await tx.query('UPDATE stock SET available = $2 WHERE sku = $1', ['pear', 0]);
        // the server ends this very connection, as a restart or a failover would
        await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
      }),
      /terminat/i,
    );

    // nothing of the lost transaction was kept, and the pool answers on a new connection
    const afterwards = await Promise.all(
      Array.from({ length: 10 }, () =>
        database.query<{ available: number; pid: number }>(
          'SELECT available, pg_backend_pid() AS pid FROM stock WHERE sku = $1',
          ['pear'],
        ),
      ),
    );
    expect(afterwards.flat().map(({ available }) => available)).toEqual(Array(10).fill(2));
    expect(afterwards.flat().map(({ pid }) => pid)).not.toContain(lostPids[0]);
  });
});

describe('PostgresDatabase timeouts on PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let database: PostgresDatabase;
  // a lock holder below waits out a statement timeout inside its transaction: idle allows more
  const timeouts = { statementMs: 200, idleInTransactionMs: 800 };

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    database = await PostgresDatabase.open(scratch.url, timeouts);
    await migrate(database, [
      {
        id: '0001-stock',
        sql: `CREATE TABLE stock (sku text PRIMARY KEY, available integer NOT NULL);
              INSERT INTO stock (sku, available) VALUES ('apple', 5)`,
      },
    ]);
  });

  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('cancels a statement that runs past the statement timeout, and answers the next one', async () => {
    await expectUnavailable(database.query('SELECT pg_sleep($1)', [5]), /statement timeout/);
    expect(await database.query('SELECT available FROM stock WHERE sku = $1', ['apple'])).toEqual([
      { available: 5 },
    ]);
  });

  it('cancels a statement waiting past the timeout for a row another transaction holds', async () => {
    const release = await holdInTransaction(
      database,
      'SELECT available FROM stock WHERE sku = $1 FOR UPDATE',
      ['apple'],
    );
    try {
      await expectUnavailable(
        database.query('UPDATE stock SET available = $2 WHERE sku = $1', ['apple', 0]),
        /statement timeout/,
      );
    } finally {
      await release();
    }
    expect(await database.query('SELECT available FROM stock WHERE sku = $1', ['apple'])).toEqual([
      { available: 5 },
    ]);
  });

  it('ends a transaction left idle past the timeout: its locks go, nothing of it is kept', async () => {
    await expectUnavailable(
      database.transaction(async (tx) => {
        await tx.query('UPDATE stock SET available = $2 WHERE sku = $1', ['apple', 1]);
        // the process stops driving its transaction (a stall, a lost network) for longer than allowed
        await new Promise((resolve) => setTimeout(resolve, timeouts.idleInTransactionMs * 2));
        await tx.query('SELECT 1 AS alive WHERE $1::int = 1', [1]);
      }),
      /idle-in-transaction timeout|not queryable/,
    );
    // the row is free at once (no statement waits for the dead transaction) and was never changed
    expect(
      await database.query('UPDATE stock SET available = $2 WHERE sku = $1 RETURNING available', [
        'apple',
        5,
      ]),
    ).toEqual([{ available: 5 }]);
  });

  it('asks the server for both timeouts when it connects', async () => {
    expect(await database.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '200ms' }]);
    expect(await database.query('SHOW idle_in_transaction_session_timeout')).toEqual([
      { idle_in_transaction_session_timeout: '800ms' },
    ]);
  });

  // PgBouncer refuses a connection that names them: the operator sets them on the role instead
  it('asks for neither when both are 0, leaving the server and role settings in force', async () => {
    const untimed = await PostgresDatabase.open(scratch.url, { statementMs: 0, idleInTransactionMs: 0 });
    try {
      const [server] = await untimed.query<Record<string, string>>(
        "SELECT current_setting('statement_timeout') AS statement, " +
          "current_setting('idle_in_transaction_session_timeout') AS idle, " +
          "(SELECT count(*) FROM pg_settings WHERE name IN ('statement_timeout', " +
          "'idle_in_transaction_session_timeout') AND source = 'client')::text AS from_client",
      );
      expect(server).toEqual({ statement: '0', idle: '0', from_client: '0' });
    } finally {
      await untimed.close();
    }
  });

  it('runs migrations past the statement timeout (an index on a large table may take minutes)', async () => {
    await expect(migrate(database, [{ id: '0002-slow', sql: 'SELECT pg_sleep(0.6)' }])).resolves.toEqual([
      '0002-slow',
    ]);
    // the exemption was the migration's own: statements after it are bound again
    await expectUnavailable(database.query('SELECT pg_sleep($1)', [5]), /statement timeout/);
  });
});

/** A TCP relay to the test server that can be cut (every connection dropped, new ones refused) and restored. */
class CuttableRelay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<CuttableRelay> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const relay = new CuttableRelay(target, port);
    await relay.restore();
    return relay;
  }

  async restore(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined).on('close', () => this.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }
}

/** The lines Nest's `Logger` writes meanwhile, by level. */
function captureLogs(): { lines: Array<{ level: string; message: string }>; restore: () => void } {
  const lines: Array<{ level: string; message: string }> = [];
  const record = (level: string) => (message: unknown) => lines.push({ level, message: String(message) });
  Logger.overrideLogger({ log: record('log'), warn: record('warn'), error: record('error') });
  return { lines, restore: () => Logger.overrideLogger(new ConsoleLogger()) };
}

describe('PostgresDatabase while its server is unreachable', () => {
  let scratch: ScratchDatabase;
  let relay: CuttableRelay;
  let database: PostgresDatabase;

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    const server = new URL(scratch.url);
    relay = await CuttableRelay.start({ host: server.hostname, port: Number(server.port || 5432) });
    const viaRelay = new URL(scratch.url);
    viaRelay.hostname = '127.0.0.1';
    viaRelay.port = String(relay.port);
    database = await PostgresDatabase.open(viaRelay.toString());
  });

  afterAll(async () => {
    await database?.close();
    await relay?.cut();
    await scratch?.drop();
  });

  // a per-call error with its stack made every request of an outage an error line (and a 500)
  it('answers every call with a 503 meanwhile, logs the outage once, and its end once', async () => {
    const logs = captureLogs();
    try {
      expect(await database.query('SELECT $1::int AS up', [1])).toEqual([{ up: 1 }]);
      await relay.cut();

      await expectUnavailable(database.query('SELECT $1::int AS up', [1]), /ECONNREFUSED|terminat/i);
      await expectUnavailable(
        database.transaction((tx) => tx.query('SELECT $1::int AS up', [1])),
        /ECONNREFUSED|terminat/i,
      );
      await expectUnavailable(database.ping(), /ECONNREFUSED|terminat/i);
      await relay.restore();
      expect(await database.query('SELECT $1::int AS up', [2])).toEqual([{ up: 2 }]);
      expect(await database.query('SELECT $1::int AS up', [3])).toEqual([{ up: 3 }]);
    } finally {
      logs.restore();
    }

    expect(logs.lines).toEqual([
      { level: 'warn', message: expect.stringMatching(/^Database unavailable \(.+\); calls answer 503/) },
      { level: 'log', message: 'Database answering again' },
    ]);
  });

  it('leaves a wrong statement as it was: the caller’s mistake, not an outage', async () => {
    const failure = await database.query('SELECT * FROM no_such_table').then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).not.toBeInstanceOf(DatabaseUnavailableError);
    expect(String(failure)).toMatch(/no_such_table/);
  });
});
