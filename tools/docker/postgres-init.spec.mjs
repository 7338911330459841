// Called by `nx run tools:test-scripts` (node:test): docker-compose.yml's PostgreSQL init script against a
// real PostgreSQL server (the npm-shipped one, password authentication). The image runs the file through
// psql (16); this spec runs its statements as psql would, its \getenv and :'var' emulated here (psql is
// not among the npm-shipped binaries). Checked by hand through psql 15 on 2026-12-07.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { queryOnce, startEmbeddedPostgres } from '../scripts/embedded-postgres.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');
const { parse } = require('yaml');

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'postgres-init', '01-create-databases.sql');
const SERVICES = ['auth', 'orders', 'inventory'];
const PASSWORDS = {
  AUTH_DB_PASSWORD: 'auth-db-password',
  ORDERS_DB_PASSWORD: "orders-db-pass'word",
  INVENTORY_DB_PASSWORD: 'inventory-db-password',
};
const passwordOf = (service) => PASSWORDS[`${service.toUpperCase()}_DB_PASSWORD`];
const COMPOSE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docker-compose.yml');
// the healthcheck runs psql and pg_isready, which the image has; Debian's postgresql-client here
const hasPsql = spawnSync('sh', ['-c', 'command -v psql && command -v pg_isready']).status === 0;

/**
 * The exit status of the compose postgres service's healthcheck (a CMD-SHELL) against `url`'s server:
 * in the image it reaches the server through the default socket with local trust; here PGHOST,
 * PGPORT and PGPASSWORD send both its tools to the scratch server as its superuser instead.
 */
function composeHealthcheck(url) {
  const [form, command] = parse(readFileSync(COMPOSE, 'utf8')).services.postgres.healthcheck.test;
  assert.equal(form, 'CMD-SHELL');
  const { hostname, port, password } = new URL(url);
  const result = spawnSync('sh', ['-c', command], {
    env: { ...process.env, PGHOST: hostname, PGPORT: port, PGPASSWORD: decodeURIComponent(password) },
    timeout: 10_000,
  });
  return result.status;
}

/**
 * The statements psql runs for `text` with `env`: the script may use `\set ON_ERROR_STOP`, `\getenv`
 * and `:'name'` (a variable as a quoted literal), nothing else of psql's.
 */
function psqlStatements(text, env) {
  const variables = {};
  const sql = [];
  for (const line of text.split('\n')) {
    const command = /^\\(\w+)\s*(.*)$/.exec(line.trim());
    if (command === null) {
      if (!line.trim().startsWith('--')) sql.push(line);
      continue;
    }
    const [, name, args] = command;
    if (name === 'set' && args === 'ON_ERROR_STOP on') continue;
    if (name !== 'getenv') throw new Error(`the script uses \\${name}, which this spec does not emulate`);
    const [variable, envName] = args.split(/\s+/);
    if (env[envName] !== undefined) variables[variable] = env[envName];
  }
  return sql
    .join('\n')
    .replace(/:'(\w+)'/g, (whole, variable) => {
      // psql leaves an unknown variable as written: a syntax error there, and ON_ERROR_STOP ends the script
      if (variables[variable] === undefined) return whole;
      return `'${variables[variable].replaceAll("'", "''")}'`;
    })
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

describe('the compose PostgreSQL init script', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'relay-postgres-init-'));
  // run as root, the launcher runs PostgreSQL as nobody, which must get through mkdtemp's 0700
  chmodSync(scratch, 0o755);
  let server;
  let healthBeforeScript;
  const urlAs = (role, database, password = passwordOf(role)) => {
    const url = new URL(server.urls.postgres);
    url.username = role;
    url.password = password;
    url.pathname = `/${database}`;
    return url.toString();
  };

  before(async () => {
    server = await startEmbeddedPostgres({ dataDir: join(scratch, 'data'), databases: ['postgres'] });
    if (hasPsql) healthBeforeScript = composeHealthcheck(tcpUrl());
    const superuser = new Client({ connectionString: server.urls.postgres });
    await superuser.connect();
    try {
      for (const statement of psqlStatements(readFileSync(SCRIPT, 'utf8'), PASSWORDS)) {
        await superuser.query(statement);
      }
    } finally {
      await superuser.end();
    }
  });

  // the superuser's URL over 127.0.0.1 (the launcher's may name its socket directory)
  const tcpUrl = () => {
    const url = new URL(server.urls.postgres);
    url.hostname = '127.0.0.1';
    return url.toString();
  };

  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const service of SERVICES) {
    it(`lets ${service} into its own database with its own password, to create its tables`, async () => {
      const url = urlAs(service, service);
      const [who] = await queryOnce(url, 'SELECT current_user AS role, current_database() AS database');
      assert.deepEqual(who, { role: service, database: service });
      await queryOnce(
        url,
        'CREATE TABLE migrations_probe (id integer PRIMARY KEY); DROP TABLE migrations_probe',
      );
      const [role] = await queryOnce(
        url,
        'SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user',
      );
      assert.deepEqual(role, { rolsuper: false, rolcreaterole: false, rolcreatedb: false });
    });

    it(`keeps ${service} out of the other services' databases and refuses a wrong password`, async () => {
      for (const other of SERVICES.filter((name) => name !== service)) {
        await assert.rejects(queryOnce(urlAs(service, other), 'SELECT 1'), /permission denied for database/);
      }
      await assert.rejects(
        queryOnce(urlAs(service, service, 'not-its-password'), 'SELECT 1'),
        /password authentication failed/,
      );
    });
  }

  // a first `up` cut short after initdb leaves a volume the image never runs the script on again
  it(
    "has compose's healthcheck fail until the script has run, and pass after",
    { skip: hasPsql ? false : 'psql and pg_isready are not installed (Debian: postgresql-client)' },
    () => {
      assert.notEqual(healthBeforeScript, 0);
      assert.equal(composeHealthcheck(tcpUrl()), 0);
    },
  );

  it('stops at a password missing from the environment instead of creating a role without one', async () => {
    const statements = psqlStatements(readFileSync(SCRIPT, 'utf8'), {
      ...PASSWORDS,
      ORDERS_DB_PASSWORD: undefined,
    });
    const createOrders = statements.find((statement) => statement.startsWith('CREATE ROLE orders'));
    await assert.rejects(queryOnce(server.urls.postgres, createOrders), /syntax error/);
  });
});
