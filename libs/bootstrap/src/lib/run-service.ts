import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from '@nestjs/common';

import { isNatsUnreachable, probeNats } from '@relay/auth';
import { type ConfigValidator, exitOnInvalidEnvironment, InvalidEnvironmentError } from '@relay/config';
import { isDatabaseUnavailable, probePostgres } from '@relay/database';
import { createServiceLogger, startTracing } from '@relay/observability';

import { GracefulShutdown, type ShutdownSettings } from './graceful-shutdown';
import { validateLifecycleConfig } from './lifecycle.config';
import type { ServiceConfig } from './service-app';
import {
  type Dependency,
  StartupError,
  waitForDependencies,
  withoutCredentials,
} from './wait-for-dependencies';

// one attempt's bound, and the pause before the next while a server is not up yet
const PROBE_TIMEOUT_MS = 2000;
const RETRY_MS = 500;

/**
 * The whole of a service's `main.ts`: validates the environment (one line and exit 1 when bad),
 * waits for its PostgreSQL server (when `DATABASE_URL` is set) and NATS to answer (up to
 * `STARTUP_WAIT_MS` each: a stack started at once, a server restarting), builds the app, then
 * `init()` before `startAllMicroservices()` (so global enhancers cover NATS handlers) and listens on
 * `LISTEN_ADDRESS`. A start-up failure exits 1 naming the service; SIGTERM or SIGINT before it listens
 * exits at once. Once listening, SIGTERM or SIGINT shuts it down gracefully ({@link GracefulShutdown})
 * and exits 0.
 */
export function runService<T extends ServiceConfig>(
  name: string,
  validate: ConfigValidator<T>,
  createApp: (config: T) => Promise<NestFastifyApplication>,
): void {
  const config = exitOnInvalidEnvironment(validate);
  const lifecycle = exitOnInvalidEnvironment(validateLifecycleConfig);
  const shutdown: ShutdownSettings = {
    graceMs: lifecycle.SHUTDOWN_GRACE_MS,
    timeoutMs: lifecycle.SHUTDOWN_TIMEOUT_MS,
  };
  // before the app exists, so every span it opens has an SDK behind it (when an endpoint is set)
  startTracing(name);
  // Until the app listens, SIGTERM or SIGINT ends it at once: it has accepted nothing yet. Said out
  // loud because node as a container's PID 1 ignores a signal it has no handler for, and would sit
  // out `docker stop` through the wait for its servers.
  const exitAtOnce = (signal: NodeJS.Signals): void => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGTERM', exitAtOnce).on('SIGINT', exitAtOnce);
  // the app's log format from the first line: a collector reading JSON lines gets these as such too.
  // Its lines share the app's stdout batch, in order with them, and are written as the process exits
  const logger = createServiceLogger({ service: name, level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  waitForDependencies(dependenciesOf(name, config), {
    waitMs: lifecycle.STARTUP_WAIT_MS,
    retryMs: RETRY_MS,
    log: logger,
  })
    .then(() => start(config, shutdown, createApp))
    .then((graceful) => {
      process.off('SIGTERM', exitAtOnce).off('SIGINT', exitAtOnce);
      graceful.exitOnSignals();
    })
    .catch((error: unknown) => {
      // a setting found wrong only at start (e.g. the bootstrap admin) is one line, like validation's
      if (error instanceof InvalidEnvironmentError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      }
      // a server that is not there, or refuses this service, is one line too
      const detail =
        error instanceof StartupError
          ? error.message
          : error instanceof Error
            ? (error.stack ?? error.message)
            : String(error);
      logger.fatal(`${name} failed to start: ${detail}`);
      process.exit(1);
    });
}

/** The servers service `name` needs before its app can start: its PostgreSQL (when not embedded), then NATS. */
export function dependenciesOf(name: string, config: ServiceConfig): Dependency[] {
  const natsServer: Dependency = {
    name: `NATS at ${withoutCredentials(config.NATS_URL)}`,
    probe: () =>
      probeNats(
        {
          url: config.NATS_URL,
          name,
          tlsCaFile: config.NATS_TLS_CA_FILE,
          nkeySeedFile: config.NATS_NKEY_SEED_FILE,
        },
        PROBE_TIMEOUT_MS,
      ),
    isTransient: isNatsUnreachable,
  };
  const databaseUrl = config.DATABASE_URL;
  if (databaseUrl === undefined) return [natsServer];
  const database: Dependency = {
    name: `PostgreSQL at ${withoutCredentials(databaseUrl)}`,
    probe: () => probePostgres(databaseUrl, PROBE_TIMEOUT_MS),
    isTransient: isDatabaseUnavailable,
  };
  return [database, natsServer];
}

/** Builds, initialises and starts the app; answers its graceful shutdown, to be armed once it listens. */
async function start<T extends ServiceConfig>(
  config: T,
  settings: ShutdownSettings,
  createApp: (config: T) => Promise<NestFastifyApplication>,
): Promise<GracefulShutdown> {
  const app = await createApp(config);
  if (config.NATS_TLS_CA_FILE === undefined || config.NATS_NKEY_SEED_FILE === undefined) {
    new Logger('Bus').warn(
      'NATS without TLS or without an NKey identity (NATS_TLS_CA_FILE / NATS_NKEY_SEED_FILE unset): for a development bus only',
    );
  }
  // not Nest's enableShutdownHooks(): on a signal it runs onModuleDestroy (the revocation feed stops)
  // before it stops listening, and closes NATS without waiting for the handlers in flight
  const shutdown = GracefulShutdown.prepare(app, settings);
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.LISTEN_ADDRESS);
  return shutdown;
}
