import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from '@nestjs/common';

import { type ConfigValidator, exitOnInvalidEnvironment, InvalidEnvironmentError } from '@relay/config';
import { startTracing } from '@relay/observability';

import { GracefulShutdown, type ShutdownSettings } from './graceful-shutdown';
import type { ServiceConfig } from './service-app';
import { validateShutdownConfig } from './shutdown.config';

/**
 * The whole of a service's `main.ts`: validates the environment (one line and exit 1 when bad),
 * builds the app, then `init()` before `startAllMicroservices()` (so global enhancers cover NATS
 * handlers) and listens on every interface. A start-up failure exits 1 naming the service. Once
 * listening, SIGTERM or SIGINT shuts it down gracefully ({@link GracefulShutdown}) and exits 0.
 */
export function runService<T extends ServiceConfig>(
  name: string,
  validate: ConfigValidator<T>,
  createApp: (config: T) => Promise<NestFastifyApplication>,
): void {
  const config = exitOnInvalidEnvironment(validate);
  const shutdownConfig = exitOnInvalidEnvironment(validateShutdownConfig);
  const shutdown: ShutdownSettings = {
    graceMs: shutdownConfig.SHUTDOWN_GRACE_MS,
    timeoutMs: shutdownConfig.SHUTDOWN_TIMEOUT_MS,
  };
  // before the app exists, so every span it opens has an SDK behind it (when an endpoint is set)
  startTracing(name);
  start(config, shutdown, createApp).catch((error: unknown) => {
    // a setting found wrong only at start (e.g. the bootstrap admin) is one line, like validation's
    if (error instanceof InvalidEnvironmentError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${name} failed to start: ${detail}\n`);
    process.exit(1);
  });
}

async function start<T extends ServiceConfig>(
  config: T,
  settings: ShutdownSettings,
  createApp: (config: T) => Promise<NestFastifyApplication>,
): Promise<void> {
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
  await app.listen(config.PORT, '0.0.0.0');
  // a signal before this point ends the process at once: nothing has been accepted over HTTP yet
  shutdown.exitOnSignals();
}
