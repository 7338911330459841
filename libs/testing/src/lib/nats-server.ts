import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ConnectionOptions, nkeyAuthenticator } from 'nats';

import type { BusConnectionInfo, BusService } from '@relay/nats-bus';

import { getFreePort, waitForPort } from './ports';

let resolvedCommand: string | null | undefined;

/**
 * The nats-server to run: `NATS_SERVER_BIN` when set (and then only it), else `nats-server` on the PATH,
 * else one in /usr/local/sbin or /usr/sbin (Debian's package installs /usr/sbin/nats-server, which is
 * not on a normal user's PATH); `undefined` when there is none.
 */
export function natsServerCommand(): string | undefined {
  if (resolvedCommand === undefined) {
    const chosen = process.env['NATS_SERVER_BIN'];
    const candidates =
      chosen !== undefined && chosen !== ''
        ? [chosen]
        : ['nats-server', '/usr/local/sbin/nats-server', '/usr/sbin/nats-server'];
    resolvedCommand =
      candidates.find(
        (command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).error === undefined,
      ) ?? null;
  }
  return resolvedCommand ?? undefined;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Run with JetStream (`-js`), storing under a throw-away directory. Default: `false`. */
  jetstream?: boolean;
  /** How long to wait for the server to accept connections, in ms. Default: 10 000. */
  startTimeoutMs?: number;
  /**
   * Run the closed bus (`@relay/nats-bus`): TLS required, one NKey identity per service with its
   * permissions, no anonymous user; implies JetStream. Default: `false` (open, plain TCP).
   */
  closed?: boolean;
}

/** A private `nats-server` process (specs and e2e only). */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` (`tls://…` on a closed bus). */
  readonly url: string;
  readonly port: number;
  /** The running process's id (a new one after {@link resume}); `undefined` while halted or stopped. */
  readonly pid: number | undefined;
  /** A closed bus's CA file, seed files and inbox prefixes; `undefined` on an open bus. */
  readonly bus?: BusConnectionInfo;
  /**
   * nats.js options to connect as `service` (TLS, its NKey, its inbox prefix) on a closed bus, or
   * anonymously on an open one (`service` then only names the connection).
   */
  connectionOptions(service?: BusService): ConnectionOptions;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its store. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process but keeps its port and store: an outage, which {@link resume} ends. */
  halt(): Promise<void>;
  /** Starts the server again after {@link halt}, on the same port with the same store. */
  resume(): Promise<void>;
  /** {@link halt} then {@link resume} (JetStream state survives). */
  restart(): Promise<void>;
}

const KILL_AFTER_MS = 5000;

/**
 * Starts `nats-server [-js] -a 127.0.0.1 -p <free port> [-sd <tmpdir>]` and resolves once it
 * accepts connections, so a spec owns its bus: the contract fixes the subjects, and another suite
 * on a shared server could answer or steal its messages. Needs a nats-server ({@link natsServerCommand}).
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const port = await getFreePort();
  const isClosed = options.closed === true;
  const storeDir =
    options.jetstream === true || isClosed ? mkdtempSync(join(tmpdir(), 'relay-nats-')) : undefined;
  // loaded for a closed bus only: an open one needs neither its certificates nor its NKeys (and the
  // packed @relay/auth/testing then needs neither @peculiar/x509 nor nkeys.js)
  const busMaterial = isClosed ? await import('@relay/nats-bus') : undefined;
  const material =
    busMaterial !== undefined && storeDir !== undefined
      ? await busMaterial.writeBusMaterial(join(storeDir, 'bus'))
      : undefined;
  const url = `${isClosed ? 'tls' : 'nats'}://127.0.0.1:${port}`;
  const bus =
    busMaterial === undefined || material === undefined
      ? undefined
      : busMaterial.connectionInfo(url, material);
  const args = [
    ...(material === undefined ? [] : ['-c', material.configFile]),
    ...(storeDir === undefined ? [] : ['-js', '-sd', join(storeDir, 'store')]),
    ...['-a', '127.0.0.1', '-p', String(port)],
  ];
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let isStopped = false;

  const start = async (): Promise<void> => {
    const started = spawn(natsServerCommand() ?? 'nats-server', args, { stdio: 'ignore' });
    child = started;
    const exited = new Promise<never>((_, reject) => {
      started.once('error', (error) => reject(new Error(`nats-server could not start: ${error.message}`)));
      started.once('exit', (code) =>
        reject(new Error(`nats-server exited with ${code} before accepting connections`)),
      );
    });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, '127.0.0.1', startTimeoutMs), exited]);
  };
  const assertNotStopped = (): void => {
    if (isStopped) throw new Error('nats-server was stopped; start a new one');
  };
  const stopProcess = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running !== undefined) await terminate(running);
  };
  const server: NatsServer = {
    url,
    port,
    get pid() {
      return child?.pid;
    },
    bus,
    connectionOptions: (service) => busConnectionOptions(url, bus, service),
    stop: async () => {
      isStopped = true;
      await stopProcess();
      if (storeDir !== undefined) rmSync(storeDir, { recursive: true, force: true });
    },
    halt: async () => {
      assertNotStopped();
      await stopProcess();
    },
    resume: async () => {
      assertNotStopped();
      if (child !== undefined) throw new Error(`nats-server on port ${port} is already running`);
      await start();
    },
    restart: async () => {
      await server.halt();
      await server.resume();
    },
  };
  try {
    await start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

function busConnectionOptions(
  url: string,
  bus: BusConnectionInfo | undefined,
  service: BusService | undefined,
): ConnectionOptions {
  if (bus === undefined || service === undefined) return { servers: url, name: service ?? 'relay-test' };
  const seed = readFileSync(bus.seedFiles[service], 'utf8').trim();
  return {
    servers: url,
    name: `${service}-test`,
    tls: { caFile: bus.caFile },
    authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
    inboxPrefix: bus.inboxPrefixes[service],
  };
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
