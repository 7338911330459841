import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A NATS server for one test file (specs only). */
export interface TestNats {
  readonly url: string;
  /** Stops the private server (a no-op for a shared one). */
  stop(): Promise<void>;
}

/**
 * A private `nats-server -js` on a free port, so no other suite on the shared bus (the NATS
 * subjects are fixed by the contract) can answer or steal this file's messages. Falls back to
 * `RELAY_TEST_NATS_URL` (default `nats://127.0.0.1:4222`) when `nats-server` is not installed.
 */
export async function startTestNats(): Promise<TestNats> {
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    return {
      url: process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
      stop: () => Promise.resolve(),
    };
  }
  const storeDir = mkdtempSync(join(tmpdir(), 'relay-nats-'));
  const port = await freePort();
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: 'ignore',
  });
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(storeDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not start on 127.0.0.1:${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, stop };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no free port')),
      );
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (isOpen: boolean): void => {
      socket.destroy();
      resolve(isOpen);
    };
    socket.setTimeout(500);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}
