import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Database, Migration, OpenDatabaseOptions, Queryable } from './database';
import { removeIfStill } from './data-dir-lock';
import { openDatabase } from './open-database';
import { createScratchPostgresDatabase, type ScratchDatabase } from './scratch-postgres';

const migrations: Migration[] = [
  {
    id: '0001-stock',
    sql: `CREATE TABLE stock (sku text PRIMARY KEY, available integer NOT NULL CHECK (available >= 0))`,
  },
  { id: '0002-seed', sql: `INSERT INTO stock (sku, available) VALUES ('apple', 5)` },
];

interface Backend {
  name: string;
  setUp(): Promise<OpenDatabaseOptions>;
  tearDown(): Promise<void>;
}

function pgliteBackend(): Backend {
  let dir = '';
  return {
    name: 'PGlite',
    setUp() {
      dir = mkdtempSync(join(tmpdir(), 'relay-db-'));
      return Promise.resolve({ dataDir: join(dir, 'app'), migrations });
    },
    tearDown() {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

function postgresBackend(): Backend {
  let scratch: ScratchDatabase | undefined;
  return {
    name: 'PostgreSQL',
    async setUp() {
      scratch = await createScratchPostgresDatabase();
      return { url: scratch.url, migrations };
    },
    async tearDown() {
      await scratch?.drop();
    },
  };
}

describe.each([pgliteBackend(), postgresBackend()])('openDatabase on $name', (backend) => {
  let options: OpenDatabaseOptions;
  let database: Database;

  beforeEach(async () => {
    options = await backend.setUp();
    database = await openDatabase(options);
  });

  afterEach(async () => {
    await database.close();
    await backend.tearDown();
  });

  it('applies every migration once and keeps data across a reopen', async () => {
    await database.query('UPDATE stock SET available = $1 WHERE sku = $2', [7, 'apple']);
    await database.close();

    database = await openDatabase(options);

    const migrated = await database.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(migrated.map((row) => row.id)).toEqual(['0001-stock', '0002-seed']);
    expect(await database.query('SELECT sku, available FROM stock')).toEqual([
      { sku: 'apple', available: 7 },
    ]);
  });

  it('rolls a transaction back when its work throws', async () => {
    const failing = database.transaction(async (tx) => {
      await tx.query('UPDATE stock SET available = 0 WHERE sku = $1', ['apple']);
      throw new Error('boom');
    });

    await expect(failing).rejects.toThrow('boom');
    expect(await database.query('SELECT available FROM stock')).toEqual([{ available: 5 }]);
  });

  // PostgreSQL answers the COMMIT of a transaction in which a statement failed with a ROLLBACK and no
  // error: work that caught the failure must not be told its writes were kept
  it('rolls back and rethrows when a statement failed, even if the work caught it', async () => {
    const caught = database.transaction(async (tx) => {
      await tx.query('UPDATE stock SET available = 0 WHERE sku = $1', ['apple']);
      const duplicate = await tx.query('INSERT INTO stock (sku, available) VALUES ($1, 1)', ['apple']).then(
        () => false,
        () => true,
      );
      return duplicate ? 'taken' : 'inserted';
    });

    await expect(caught).rejects.toThrow(/duplicate key/);
    expect(await database.query('SELECT available FROM stock')).toEqual([{ available: 5 }]);
  });

  it('refuses a statement on a transaction once it has ended, committed or rolled back', async () => {
    let committed: Queryable | undefined;
    await database.transaction(async (tx) => {
      committed = tx;
      await tx.query('UPDATE stock SET available = 1 WHERE sku = $1', ['apple']);
    });
    let rolledBack: Queryable | undefined;
    await database
      .transaction((tx) => {
        rolledBack = tx;
        return Promise.reject(new Error('boom'));
      })
      .catch(() => undefined);

    for (const tx of [committed, rolledBack]) {
      await expect(tx?.query('UPDATE stock SET available = 0 WHERE sku = $1', ['apple'])).rejects.toThrow(
        'A statement on a transaction that has ended',
      );
    }
    expect(await database.query('SELECT available FROM stock')).toEqual([{ available: 1 }]);
  });

  it('never lets concurrent conditional updates take stock below zero', async () => {
    const takeOne = () =>
      database.transaction((tx) =>
        tx.query(
          'UPDATE stock SET available = available - 1 WHERE sku = $1 AND available >= 1 RETURNING sku',
          ['apple'],
        ),
      );

    const results = await Promise.all(Array.from({ length: 12 }, takeOne));

    expect(results.filter((rows) => rows.length === 1)).toHaveLength(5);
    expect(await database.query('SELECT available FROM stock')).toEqual([{ available: 0 }]);
  });

  it("keeps a failed statement's bound values off its error", async () => {
    const failing = database.query('INSERT INTO stock (sku, available) VALUES ($1, $2)', [
      'secret-value',
      -1,
    ]);
    const error = await failing.then(
      () => undefined,
      (caught: unknown) => caught as Record<string, unknown>,
    );

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toHaveProperty('params');
    expect(error).not.toHaveProperty('queryOptions');
  });

  it('answers ping while open', async () => {
    await expect(database.ping()).resolves.toBeUndefined();
  });
});

describe('openDatabase on PGlite, one process to a data directory', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-db-lock-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a data directory another live process holds, naming it', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 30000)']);
    try {
      writeFileSync(join(dir, 'app.lock'), `${holder.pid}\n`);

      await expect(openDatabase({ dataDir: join(dir, 'app'), migrations })).rejects.toThrow(
        `${join(dir, 'app')} is in use by process ${holder.pid}`,
      );
    } finally {
      holder.kill();
    }
  });

  it('takes over the lock of a process that is gone, and gives it back when it closes', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(dir, 'app.lock'), `${gone.stdout}\n`);

    const database = await openDatabase({ dataDir: join(dir, 'app'), migrations });
    expect(readFileSync(join(dir, 'app.lock'), 'utf8')).toBe(`${process.pid}\n${hostname()}\n`);
    await database.close();

    expect(existsSync(join(dir, 'app.lock'))).toBe(false);
  });

  // containers sharing a volume: each app is pid 1 of its own namespace, invisible from the others
  it('refuses the lock of another host, even when it names this process’s pid', async () => {
    const lock = `${process.pid}\nother-container\n`;
    writeFileSync(join(dir, 'app.lock'), lock);

    await expect(openDatabase({ dataDir: join(dir, 'app'), migrations })).rejects.toThrow(
      `${join(dir, 'app')} is in use by process ${process.pid} on host other-container`,
    );
    expect(readFileSync(join(dir, 'app.lock'), 'utf8')).toBe(lock);
  });

  // a `wx` write creates the file before it fills it: empty, it is another process taking it now,
  // not a dead holder's
  it('refuses an empty lock, which a process starting beside it has not written yet', async () => {
    writeFileSync(join(dir, 'app.lock'), '');

    await expect(openDatabase({ dataDir: join(dir, 'app'), migrations })).rejects.toThrow(
      `${join(dir, 'app')} is in use by a process starting now`,
    );
    expect(readFileSync(join(dir, 'app.lock'), 'utf8')).toBe('');
  });

  // two apps starting together both judge a dead holder's lock stale: the first takes it over, and
  // the second's takeover must not remove that new lock (both would open the directory)
  it('takes a stale lock over only while it is still the stale one', () => {
    const file = join(dir, 'app.lock');
    const stale = `4242\n${hostname()}\n`;
    const takenMeanwhile = `${process.pid}\n${hostname()}\n`;
    writeFileSync(file, takenMeanwhile);

    removeIfStill(file, stale);

    expect(readFileSync(file, 'utf8')).toBe(takenMeanwhile);
    writeFileSync(file, stale);
    removeIfStill(file, stale);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves a lock that is no longer its own when it closes', async () => {
    const database = await openDatabase({ dataDir: join(dir, 'app'), migrations });
    const taken = `4242\n${hostname()}\n`;
    writeFileSync(join(dir, 'app.lock'), taken);

    await database.close();

    expect(readFileSync(join(dir, 'app.lock'), 'utf8')).toBe(taken);
  });
});
