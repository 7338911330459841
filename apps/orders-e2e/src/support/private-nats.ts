import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { tcpAnswers } from './app-processes';

/** A nats-server started for this run only. */
export interface PrivateNats {
  url: string;
  child: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no free port')),
      );
    });
  });
}

export function hasNatsServer(): boolean {
  return !spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).error;
}

/**
 * Starts `nats-server -js` on a free port with its store under `dataDir`. A private bus keeps the
 * suite away from anything else subscribed on a shared one (dev servers, other suites' apps in the
 * same queue group would otherwise answer our `inventory.reserve` requests).
 */
export async function startPrivateNats(dataDir: string): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (!(await tcpAnswers('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not answer on 127.0.0.1:${port}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return { url: `nats://127.0.0.1:${port}`, child };
}
