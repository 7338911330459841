import { createConnection, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { type BusConnectionInfo, getFreePort, type NatsServer, startNatsServer } from '@relay/testing';

import { dependenciesOf } from './run-service';
import type { ServiceConfig } from './service-app';
import { StartupError, waitForDependencies, withoutCredentials } from './wait-for-dependencies';

const POSTGRES_URL = process.env['RELAY_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// a service waits for its NATS after its PostgreSQL: the suites' own (tools/scripts/ensure-services.sh)
const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

function configFor(overrides: Partial<ServiceConfig>): ServiceConfig {
  return {
    PORT: 0,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    LISTEN_ADDRESS: '127.0.0.1',
    NATS_URL,
    ...overrides,
  };
}

/** Starts the wait of service `orders` for `config`'s servers; `lines` fills as it logs (`<level>: <line>`). */
function waitFor(config: ServiceConfig, waitMs: number): { outcome: Promise<void>; lines: string[] } {
  const lines: string[] = [];
  const outcome = waitForDependencies(dependenciesOf('orders', config), {
    waitMs,
    retryMs: 100,
    log: { warn: (line) => lines.push(`warn: ${line}`), info: (line) => lines.push(`info: ${line}`) },
  });
  // settled or not, never an unhandled rejection while a spec does something else
  outcome.catch(() => undefined);
  return { outcome, lines };
}

/** A TCP forwarder to PostgreSQL on `port`, started only when a spec says: a server that comes up late. */
function forwardToPostgres(port: number): Promise<Server> {
  const target = new URL(POSTGRES_URL);
  const server = createServer((socket) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function urlOnPort(url: string, port: number): string {
  const moved = new URL(url);
  moved.hostname = '127.0.0.1';
  moved.port = String(port);
  return moved.href;
}

describe(waitForDependencies.name, () => {
  describe('NATS', () => {
    let nats: NatsServer;

    beforeAll(async () => {
      nats = await startNatsServer();
    });

    afterAll(async () => {
      await nats?.stop();
    });

    it('goes on at once, saying nothing, when the server answers', async () => {
      const { outcome, lines } = waitFor(configFor({ NATS_URL: nats.url }), 5000);
      await expect(outcome).resolves.toBeUndefined();
      expect(lines).toEqual([]);
    });

    it('waits for a server that is not up yet, says so once, and goes on when it answers', async () => {
      await nats.halt();
      const { outcome, lines } = waitFor(configFor({ NATS_URL: nats.url }), 20_000);
      await sleep(700);
      expect(lines).toEqual([
        expect.stringMatching(
          /^warn: waiting up to 20 s for NATS at nats:\/\/127\.0\.0\.1:\d+ \(.*CONNECTION_REFUSED/,
        ),
      ]);
      await nats.resume();

      await expect(outcome).resolves.toBeUndefined();
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^info: NATS at nats:\/\/127\.0\.0\.1:\d+ answered after \d+(\.\d)? s$/);
    });

    it('gives up after its wait with one line naming the server and why', async () => {
      const port = await getFreePort();
      const { outcome } = waitFor(configFor({ NATS_URL: `nats://relay:secret@127.0.0.1:${port}` }), 400);

      const error: unknown = await outcome.catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^NATS at nats://127\\.0\\.0\\.1:${port} did not answer within 0\\.4 s \\(STARTUP_WAIT_MS\\): .*CONNECTION_REFUSED`,
        ),
      );
      expect((error as Error).message).not.toContain('secret');
    });
  });

  describe('the closed bus', () => {
    let bus: NatsServer;
    const info = (): BusConnectionInfo => {
      if (bus.bus === undefined) throw new Error('the closed bus came without its connection info');
      return bus.bus;
    };

    beforeAll(async () => {
      bus = await startNatsServer({ closed: true });
    }, 30_000);

    afterAll(async () => {
      await bus?.stop();
    });

    it('connects as the service, over TLS with its NKey', async () => {
      const config = configFor({
        NATS_URL: info().url,
        NATS_TLS_CA_FILE: info().caFile,
        NATS_NKEY_SEED_FILE: info().seedFiles.orders,
      });
      const { outcome, lines } = waitFor(config, 5000);
      await expect(outcome).resolves.toBeUndefined();
      expect(lines).toEqual([]);
    });

    it('fails at once, without waiting, when the bus refuses the service', async () => {
      const started = Date.now();
      const config = configFor({ NATS_URL: bus.url, NATS_TLS_CA_FILE: info().caFile });
      const { outcome, lines } = waitFor(config, 20_000);

      const error: unknown = await outcome.catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toMatch(/^NATS at tls:\/\/127\.0\.0\.1:\d+ refused this service: /);
      expect(lines).toEqual([]);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });

  describe('PostgreSQL', () => {
    it('goes on at once, saying nothing, when the server answers', async () => {
      const { outcome, lines } = waitFor(configFor({ DATABASE_URL: POSTGRES_URL }), 5000);
      await expect(outcome).resolves.toBeUndefined();
      expect(lines).toEqual([]);
    });

    it('waits for a server that comes up late', async () => {
      const port = await getFreePort();
      const { outcome, lines } = waitFor(configFor({ DATABASE_URL: urlOnPort(POSTGRES_URL, port) }), 20_000);
      await sleep(700);
      expect(lines).toEqual([
        expect.stringMatching(
          /^warn: waiting up to 20 s for PostgreSQL at postgres:\/\/.*127\.0\.0\.1:\d+\/\w+ \(connect ECONNREFUSED/,
        ),
      ]);
      const forwarder = await forwardToPostgres(port);
      try {
        await expect(outcome).resolves.toBeUndefined();
        expect(lines[1]).toMatch(/^info: PostgreSQL at .* answered after/);
      } finally {
        forwarder.close();
      }
    });

    it('fails at once when the server refuses: no such database', async () => {
      const missing = new URL(POSTGRES_URL);
      missing.pathname = '/relay_no_such_database';
      const { outcome, lines } = waitFor(configFor({ DATABASE_URL: missing.href }), 20_000);

      await expect(outcome).rejects.toThrow(
        /^PostgreSQL at postgres:\/\/.*\/relay_no_such_database refused this service: 3D000: database "relay_no_such_database" does not exist$/,
      );
      expect(lines).toEqual([]);
    });
  });
});

describe(withoutCredentials.name, () => {
  it.each([
    ['postgres://relay:s3cret@db:5432/orders?sslmode=require&password=x', 'postgres://db:5432/orders'],
    ['postgresql://db/orders', 'postgresql://db/orders'],
    ['nats://app:pw@nats-1:4222,tls://nats-2:4222', 'nats://nats-1:4222,tls://nats-2:4222'],
    ['nats://token@nats:4222', 'nats://nats:4222'],
    // a generated password holds what URLs reserve: never part of what is shown
    ['postgres://postgres:s3cr/et+X@db:5432/auth', 'postgres://db:5432/auth'],
    ['postgres://postgres:/s3cret@postgres:5432/auth', 'postgres://postgres:5432/auth'],
    ['postgres://u:1234/abc@db/auth', 'postgres://db/auth'],
    ['postgres://u:ab#cd@db/auth', 'postgres://db/auth'],
    ['postgres://u:12#pw@db/auth', 'postgres://db/auth'],
    ['postgres://u:p@ss@db/auth', 'postgres://db/auth'],
    ['nats://app:/pw@nats:4222', 'nats://nats:4222'],
    // a comma in a password does not start another URL of a list
    ['postgres://inventory:4821,x@db/inv', 'postgres://db/inv'],
    ['postgres://inventory:Ab,Cd:ef@db/inv', 'postgres://db/inv'],
    ['nats://a:p,w@nats-1:4222,nats://b:q@nats-2:4222', 'nats://nats-1:4222,nats://nats-2:4222'],
    ['postgres://db:port/auth', 'postgres://<unparsable URL>'],
    ['not a url', '<unparsable URL>'],
  ])('%s → %s', (url, shown) => {
    expect(withoutCredentials(url)).toBe(shown);
  });
});
