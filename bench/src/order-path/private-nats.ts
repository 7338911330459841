import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort, waitForPort } from '@relay/testing';

import { type BenchChild, spawnProcess } from '../core/child';

/** A `nats-server -js` of one stack, with its process id so its CPU time can be read. */
export interface PrivateNats {
  url: string;
  child: BenchChild<undefined>;
  stop(): Promise<void>;
}

/**
 * Starts a `nats-server -js` on a free port with a throw-away store. Each stack of the order-path
 * comparison gets its own: the floor answers the same subjects as inventory, so the two must not
 * share a bus, and the bus's CPU per order is only readable from a process that carries one stack.
 * Rejects when there is no `nats-server` binary on the PATH.
 */
export async function startPrivateNats(name: string): Promise<PrivateNats> {
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    throw new Error('no nats-server binary on the PATH');
  }
  const port = await getFreePort();
  const storeDir = mkdtempSync(join(tmpdir(), `relay-bench-${name}-`));
  const child = spawnProcess(name, 'nats-server', [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
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
  return { url: `nats://127.0.0.1:${port}`, child, stop };
}
