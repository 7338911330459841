import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort, natsServerCommand, waitForPort } from '@relay/testing';

import { type BenchChild, spawnProcess } from './child';

/** The bus the bench uses. */
export interface BenchNats {
  url: string;
  /** `private nats-server on :PORT` or `shared NATS at URL`. */
  description: string;
  stop(): Promise<void>;
}

/** What a nats-server has received from its clients since it started (its monitoring `/varz`). */
export interface BusTraffic {
  messages: number;
  bytes: number;
}

/** A private `nats-server -js`, with its process id so its CPU time can be read. */
export interface PrivateNats {
  url: string;
  port: number;
  child: BenchChild<undefined>;
  /** Messages and bytes received from the clients so far (`in_msgs`, `in_bytes`). */
  traffic(): Promise<BusTraffic>;
  stop(): Promise<void>;
}

/**
 * A private `nats-server -js` on a free port with a throw-away store, so the bench neither disturbs
 * nor is disturbed by other users of the shared bus. Falls back to `NATS_URL` (or :4222) when
 * `natsServerCommand()` finds no binary (PATH, /usr/local/sbin, /usr/sbin, NATS_SERVER_BIN).
 */
export async function startBenchNats(): Promise<BenchNats> {
  if (natsServerCommand() === undefined) {
    const url = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
    return {
      url,
      description: `shared NATS at ${url} (no nats-server binary)`,
      stop: () => Promise.resolve(),
    };
  }
  const nats = await startPrivateNats('nats');
  return { url: nats.url, description: `private nats-server on :${nats.port}`, stop: nats.stop };
}

/**
 * Starts a `nats-server -js` on a free port with a throw-away store (`relay-bench-<name>-…`); `name`
 * also names its process. Each stack of the order-path comparison gets its own: the floor answers
 * the same subjects as inventory, so the two must not share a bus, and the bus's CPU per order is
 * only readable from a process that carries one stack. Rejects when there is no `nats-server`
 * binary (`natsServerCommand` of @relay/testing).
 */
export async function startPrivateNats(name: string): Promise<PrivateNats> {
  const command = natsServerCommand();
  if (command === undefined) {
    throw new Error('no nats-server binary (PATH, /usr/local/sbin, /usr/sbin, NATS_SERVER_BIN)');
  }
  const port = await getFreePort();
  const monitorPort = await getFreePort();
  const storeDir = mkdtempSync(join(tmpdir(), `relay-bench-${name}-`));
  const child = spawnProcess(name, command, [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-m',
    String(monitorPort),
    '-sd',
    storeDir,
  ]);
  const stop = async (): Promise<void> => {
    await child.stop();
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, '127.0.0.1', 10_000);
  } catch (error) {
    await stop();
    throw new Error(`nats-server did not start: ${child.output.join('\n')}`, { cause: error });
  }
  const traffic = async (): Promise<BusTraffic> => {
    const varz = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as {
      in_msgs: number;
      in_bytes: number;
    };
    return { messages: varz.in_msgs, bytes: varz.in_bytes };
  };
  return { url: `nats://127.0.0.1:${port}`, port, child, traffic, stop };
}
