import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort, waitForPort } from '@relay/testing';

import { spawnProcess } from './child';

/** The bus the bench uses. */
export interface BenchNats {
  url: string;
  /** `private nats-server on :PORT` or `shared NATS at URL`. */
  description: string;
  stop(): Promise<void>;
}

/**
 * A private `nats-server -js` on a free port with a throw-away store, so the bench neither disturbs
 * nor is disturbed by other users of the shared bus. Falls back to `NATS_URL` (or :4222) when no
 * `nats-server` binary is on the PATH.
 */
export async function startBenchNats(): Promise<BenchNats> {
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    const url = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
    return {
      url,
      description: `shared NATS at ${url} (no nats-server binary on PATH)`,
      stop: () => Promise.resolve(),
    };
  }
  const port = await getFreePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'relay-bench-nats-'));
  const server = spawnProcess('nats-server', 'nats-server', [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-sd',
    storeDir,
  ]);
  try {
    await waitForPort(port, '127.0.0.1', 10_000);
  } catch (error) {
    await server.stop();
    throw new Error(`nats-server did not start: ${server.output.join('\n')}`, { cause: error });
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    description: `private nats-server on :${port}`,
    stop: async () => {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
