import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { natsMicroserviceOptions } from '@relay/auth';
import { nestLogLevels } from '@relay/config';

import { AppModule } from './app.module';
import type { InventoryConfig } from './config/inventory.config';

/** Largest accepted HTTP body; a larger one is answered 413. */
export const BODY_LIMIT_BYTES = 1_048_576;

/**
 * The inventory app on Fastify with its NATS listener attached, not yet initialised. Shared by
 * `main.ts` and the integration spec so both run the same HTTP and NATS wiring.
 */
export async function createInventoryApp(
  config: Pick<InventoryConfig, 'NATS_URL' | 'LOG_LEVEL'>,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    // bodyParser false: only Fastify's own JSON parser (bodyLimit, 400 on "__proto__"), no
    // urlencoded parser from Nest; with text/plain removed too, any other body type is a 415
    { bufferLogs: true, logger: nestLogLevels(config.LOG_LEVEL), bodyParser: false },
  );
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  app.connectMicroservice(natsMicroserviceOptions(config.NATS_URL, 'inventory'), {
    inheritAppConfig: true,
  });
  return app;
}
