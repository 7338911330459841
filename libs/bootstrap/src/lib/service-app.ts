import { Logger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { natsMicroserviceOptions } from '@relay/auth';
import {
  type BaseAppConfig,
  type ConfigValidator,
  exitOnInvalidEnvironment,
  InvalidEnvironmentError,
  nestLogLevels,
} from '@relay/config';

/** Largest accepted HTTP body in every Relay app; a larger one is answered 413. */
export const BODY_LIMIT_BYTES = 1_048_576;

/** How {@link createServiceApp} builds one Relay service. */
export interface ServiceAppOptions {
  /** Service name: the NATS connection name, queue group and reply-inbox prefix (`_INBOX_<name>`). */
  name: string;
  natsUrl: string;
  /** `NATS_TLS_CA_FILE`: set, TLS is required. */
  natsTlsCaFile?: string;
  /** `NATS_NKEY_SEED_FILE`: this service's identity on the bus. */
  natsNkeySeedFile?: string;
  logLevel: BaseAppConfig['LOG_LEVEL'];
  /** Fastify adapter. Default: one with {@link BODY_LIMIT_BYTES}. */
  adapter?: FastifyAdapter;
  /**
   * Accept JSON bodies only; any other content type is a 415. Default: `true`. Auth turns it off:
   * its token endpoint takes form-encoded bodies (RFC 6749).
   */
  jsonOnly?: boolean;
}

/**
 * A Relay service on Fastify with its NATS listener attached (inheriting the app's global guards,
 * interceptors, filters and pipes), not yet initialised. `main.ts` and integration specs share it,
 * so both run the same HTTP and NATS wiring.
 */
export async function createServiceApp(
  appModule: Type<unknown>,
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  const jsonOnly = options.jsonOnly ?? true;
  const app = await NestFactory.create<NestFastifyApplication>(
    appModule,
    options.adapter ?? new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    // bodyParser false: only Fastify's own JSON parser (bodyLimit, 400 on "__proto__"), no
    // urlencoded parser from Nest; with text/plain removed too, any other body type is a 415
    { bufferLogs: true, logger: nestLogLevels(options.logLevel), bodyParser: !jsonOnly },
  );
  if (jsonOnly) {
    app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  }
  app.connectMicroservice(
    natsMicroserviceOptions({
      url: options.natsUrl,
      name: options.name,
      tlsCaFile: options.natsTlsCaFile,
      nkeySeedFile: options.natsNkeySeedFile,
    }),
    { inheritAppConfig: true },
  );
  return app;
}

/** What every service's environment has besides its own variables. */
export type ServiceConfig = Pick<
  BaseAppConfig,
  'NATS_URL' | 'NATS_TLS_CA_FILE' | 'NATS_NKEY_SEED_FILE' | 'LOG_LEVEL'
> & { PORT: number };

/** The bus options of {@link createServiceApp} from a service's validated environment. */
export function natsOptionsFrom(
  config: ServiceConfig,
): Pick<ServiceAppOptions, 'natsUrl' | 'natsTlsCaFile' | 'natsNkeySeedFile'> {
  return {
    natsUrl: config.NATS_URL,
    natsTlsCaFile: config.NATS_TLS_CA_FILE,
    natsNkeySeedFile: config.NATS_NKEY_SEED_FILE,
  };
}

/**
 * The whole of a service's `main.ts`: validates the environment (one line and exit 1 when bad),
 * builds the app, then `init()` before `startAllMicroservices()` (so global enhancers cover NATS
 * handlers) and listens on every interface. A start-up failure exits 1 naming the service.
 */
export function runService<T extends ServiceConfig>(
  name: string,
  validate: ConfigValidator<T>,
  createApp: (config: T) => Promise<NestFastifyApplication>,
): void {
  const config = exitOnInvalidEnvironment(validate);
  start(config, createApp).catch((error: unknown) => {
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
  createApp: (config: T) => Promise<NestFastifyApplication>,
): Promise<void> {
  const app = await createApp(config);
  if (config.NATS_TLS_CA_FILE === undefined || config.NATS_NKEY_SEED_FILE === undefined) {
    new Logger('Bus').warn(
      'NATS without TLS or without an NKey identity (NATS_TLS_CA_FILE / NATS_NKEY_SEED_FILE unset): for a development bus only',
    );
  }
  app.enableShutdownHooks();
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, '0.0.0.0');
}
