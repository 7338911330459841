import {
  type AppProcess,
  HEALTH_TIMEOUT_MS,
  killProcess,
  startApp,
  stopProcess,
  waitHealthy,
} from './app-processes';
import { type AppName } from './e2e-env';

/**
 * One app process a fault spec owns: same port, environment and DATA_DIR across restarts, so a
 * restart shows what the app kept on disk (or in its PostgreSQL database).
 */
export class ManagedApp {
  private current: AppProcess | undefined;

  constructor(
    readonly name: AppName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly label: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    const child = this.current?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** How the last process ended: a signal name, `code N`, or `undefined` while it runs. */
  get exit(): string | undefined {
    const child = this.current?.child;
    if (child === undefined || this.isRunning) return undefined;
    return child.signalCode ?? `code ${child.exitCode}`;
  }

  /** The last lines the process printed (for failure messages). */
  get output(): readonly string[] {
    return this.current?.output ?? [];
  }

  /** Spawns the process (it must not be running) without waiting for it. */
  spawn(): void {
    if (this.isRunning) throw new Error(`${this.label} is already running`);
    this.current = startApp(this.name, this.env, this.label);
  }

  /** Resolves once `GET /health` answers 200; rejects when the process exits or `timeoutMs` passes. */
  async waitHealthy(timeoutMs = HEALTH_TIMEOUT_MS): Promise<void> {
    if (this.current === undefined) throw new Error(`${this.label} was never started`);
    await waitHealthy(this.current, `${this.url}/health`, timeoutMs);
  }

  async start(timeoutMs = HEALTH_TIMEOUT_MS): Promise<void> {
    this.spawn();
    await this.waitHealthy(timeoutMs);
  }

  /** Graceful stop: SIGTERM (shutdown hooks run), SIGKILL after `graceMs`; its output is then in the run's logs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.current) return;
    await stopProcess(this.current.child, graceMs);
    await this.current.logged;
  }

  /** A crash: SIGKILL, nothing flushed, no shutdown hook; what it printed is then in the run's logs. */
  async kill(): Promise<void> {
    if (!this.current) return;
    await killProcess(this.current.child);
    await this.current.logged;
  }

  /** Freezes the process (SIGSTOP): its sockets stay open but nothing is answered. */
  freeze(): void {
    this.current?.child.kill('SIGSTOP');
  }

  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void {
    this.current?.child.kill('SIGCONT');
  }

  /** Stops (gracefully, or by SIGKILL with `crash`) and starts again until healthy. */
  async restart(options: { crash?: boolean } = {}): Promise<void> {
    await (options.crash ? this.kill() : this.stop());
    await this.start();
  }
}
