import type { Server as HttpServer } from 'node:http';

import { Logger } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { RelayServerNats } from '@relay/auth';
import { Readiness } from '@relay/health';

/** How {@link GracefulShutdown} paces a shutdown (`SHUTDOWN_GRACE_MS`, `SHUTDOWN_TIMEOUT_MS`). */
export interface ShutdownSettings {
  /** How long the app keeps serving, not ready, before it stops taking requests. */
  graceMs: number;
  /** The longest it then waits for the HTTP requests and NATS messages in flight. */
  timeoutMs: number;
  /** The longest `app.close()` may take after that. Default: {@link CLOSE_TIMEOUT_MS}. */
  closeTimeoutMs?: number;
}

/**
 * How long Nest's destroy and shutdown hooks may take (the database pool's end, the NATS client's
 * drain, the last spans' export, which has 2 s of its own): with the default 6.5 s drain, within
 * Docker's 10 s before its SIGKILL. A database or NATS that does not answer would otherwise hold
 * the exit until the kill.
 */
export const CLOSE_TIMEOUT_MS = 3000;

/** What a drain ended with: everything in flight finished, or the timeout cut what was left. */
export type DrainOutcome = 'drained' | 'timed-out';

/**
 * The shutdown of one Relay app, in the order that loses no work:
 * 1. `/health/ready` answers 503 at once (`/health/live` stays 200), and every HTTP answer from then
 *    on carries `Connection: close`, so clients stop reusing their connections;
 * 2. it keeps serving for the grace (`graceMs`), for load balancers to see it not ready;
 * 3. it stops taking work: the HTTP listener closes (new connections are refused, idle keep-alive ones
 *    closed) and the NATS subscriptions are drained (the bus sends the next messages to the other
 *    members of the queue group);
 * 4. it waits, at most `timeoutMs`, for the HTTP requests and NATS messages in flight to be answered;
 * 5. only then `app.close()`: Nest's destroy and shutdown hooks close the database, the NATS client
 *    and the revocation feed, and flush traces. Closing those first (Nest's own order on a signal runs
 *    `onModuleDestroy` before it stops listening) would fail the very requests being finished.
 *
 * {@link GracefulShutdown.prepare} must run before `app.init()`: it hooks into HTTP answers. The NATS
 * side is `RelayServerNats`'s (`natsMicroserviceOptions`), which counts the messages in flight; a NATS
 * listener of another kind is not drained. The app must import `HealthModule` (its `Readiness` is what
 * step 1 turns).
 */
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private isDraining = false;
  private drained: Promise<DrainOutcome> | undefined;

  private constructor(
    private readonly app: NestFastifyApplication,
    private readonly settings: ShutdownSettings,
    private readonly readiness: Readiness,
    private readonly natsServers: readonly RelayServerNats[],
  ) {}

  /** Hooks the shutdown into `app` (created, not yet initialised). */
  static prepare(app: NestFastifyApplication, settings: ShutdownSettings): GracefulShutdown {
    const shutdown = new GracefulShutdown(app, settings, readinessOf(app), natsServersOf(app));
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onSend', (_request, reply, payload, done) => {
        // not on a 413: createServiceApp keeps that connection open to read the rest of the body first
        if (shutdown.isDraining && reply.statusCode !== 413) void reply.header('connection', 'close');
        done(null, payload);
      });
    return shutdown;
  }

  /**
   * Steps 1 to 4: not ready, grace, stop taking work, wait for the work in flight (bounded). Leaves the
   * app open; calling it again returns the same drain.
   */
  drain(): Promise<DrainOutcome> {
    this.drained ??= this.runDrain();
    return this.drained;
  }

  /**
   * The whole sequence: {@link drain}, then `app.close()` (Nest's destroy and shutdown hooks), which
   * rejects when the hooks have not finished within `closeTimeoutMs`.
   */
  async close(): Promise<DrainOutcome> {
    const outcome = await this.drain();
    const closeTimeoutMs = this.settings.closeTimeoutMs ?? CLOSE_TIMEOUT_MS;
    if ((await settleWithin(this.app.close(), closeTimeoutMs)) === 'timed-out') {
      throw new Error(
        `the app did not close within ${closeTimeoutMs} ms (a database or NATS that does not answer?)`,
      );
    }
    return outcome;
  }

  /**
   * On the first SIGTERM or SIGINT: {@link close}, then exit 0 (1 when closing failed). A second signal
   * changes nothing: the drain is bounded already, and the orchestrator's SIGKILL ends a stuck one.
   */
  exitOnSignals(signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    let received: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received !== undefined) {
        this.logger.warn(`${signal} while shutting down after ${received}: still draining`);
        return;
      }
      received = signal;
      this.logger.log(
        `${signal}: not ready from now on; finishing the work in flight (grace ${this.settings.graceMs} ms, at most ${this.settings.timeoutMs} ms more)`,
      );
      this.close().then(
        (outcome) => {
          this.logger.log(outcome === 'drained' ? 'drained and closed' : 'closed after the drain timeout');
          process.exit(0);
        },
        (error: unknown) => {
          this.logger.error(
            `closing failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          );
          process.exit(1);
        },
      );
    };
    for (const signal of signals) process.on(signal, onSignal);
  }

  private async runDrain(): Promise<DrainOutcome> {
    this.isDraining = true;
    this.readiness.drain();
    await delay(this.settings.graceMs);
    const httpServer = this.app.getHttpServer() as HttpServer;
    const finished = Promise.all([
      closeListener(httpServer),
      ...this.natsServers.map((server) => server.drain()),
    ]);
    const outcome = await settleWithin(finished, this.settings.timeoutMs);
    if (outcome === 'timed-out') {
      this.logger.warn(
        `work still in flight after ${this.settings.timeoutMs} ms (SHUTDOWN_TIMEOUT_MS): cutting ${this.natsMessagesInFlight()} NATS message(s) and the open HTTP connections`,
      );
      httpServer.closeAllConnections();
    }
    return outcome;
  }

  private natsMessagesInFlight(): number {
    return this.natsServers.reduce((sum, server) => sum + server.messagesInFlight, 0);
  }
}

/** `drained` when `work` settles within `timeoutMs`, else `timed-out` (the timer never outlives it). */
async function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<DrainOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DrainOutcome>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    return await Promise.race([work.then(() => 'drained' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

// Stops listening and closes idle keep-alive connections (Node does both on close()); resolves once
// the connections with a request in flight have answered and closed (their answers carry
// `Connection: close`). Not listening (a signal before listen()): resolves at once.
function closeListener(server: HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

// Every Relay app imports HealthModule (the contract's /health/ready). Without it Nest's app.get
// ends the process (abortOnError), naming Readiness: a try/catch here would never run.
function readinessOf(app: NestFastifyApplication): Readiness {
  return app.get(Readiness, { strict: false });
}

// The app's NATS listeners, from Nest's public registry of RPC targets (each microservice adds its
// server when it is created; the registry replays them to a new subscriber at once).
function natsServersOf(app: NestFastifyApplication): RelayServerNats[] {
  const servers: RelayServerNats[] = [];
  app
    .get(ModulesContainer)
    .getRpcTargetRegistry<unknown>()
    .subscribe((target) => {
      if (target instanceof RelayServerNats) servers.push(target);
    })
    .unsubscribe();
  return servers;
}
