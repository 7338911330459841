import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';

import { getFreePort, waitForPort } from '@relay/testing';

import { killProcess, stopProcess } from './app-processes';

const START_TIMEOUT_MS = 10_000;

/**
 * A private `nats-server -js` a fault spec controls: stop, kill and start it again on the same
 * port with the same JetStream store, so clients see a real outage and a real comeback.
 */
export class NatsServerProcess {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  /** Starts a server on a free port (or `port`) with its store in `storeDir`; resolves once it accepts connections. */
  static async start(storeDir: string, port?: number): Promise<NatsServerProcess> {
    mkdirSync(storeDir, { recursive: true });
    const server = new NatsServerProcess(port ?? (await getFreePort()), storeDir);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Graceful stop (SIGTERM, SIGKILL after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child) await stopProcess(this.child, graceMs);
    this.child = undefined;
  }

  /** Abrupt end: SIGKILL, no goodbye to the clients. */
  async kill(): Promise<void> {
    if (this.child) await killProcess(this.child);
    this.child = undefined;
  }

  /** Starts the server again on the same port with the same store. */
  async launch(): Promise<void> {
    if (this.isRunning) throw new Error(`nats-server on port ${this.port} is already running`);
    const child = spawn(
      'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir],
      { stdio: 'ignore' },
    );
    this.child = child;
    try {
      await waitForPort(this.port, '127.0.0.1', START_TIMEOUT_MS);
    } catch (error) {
      await this.kill();
      throw error;
    }
    if (child.exitCode !== null) {
      throw new Error(
        `nats-server exited with code ${child.exitCode} right after starting on port ${this.port}`,
      );
    }
  }

  /** stop() then launch(): an outage of at least `downMs`. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((done) => setTimeout(done, downMs));
    await this.launch();
  }
}
