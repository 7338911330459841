import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { natsMicroserviceOptions } from '@relay/auth';
import { exitOnInvalidEnvironment, nestLogLevels } from '@relay/config';

import { AppModule } from './app.module';
import { validateOrdersConfig } from './config/orders.config';

async function bootstrap(): Promise<void> {
  const config = exitOnInvalidEnvironment(validateOrdersConfig);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    new FastifyAdapter({ bodyLimit: 1_048_576 }),
    {
      bufferLogs: true,
      logger: nestLogLevels(config.LOG_LEVEL),
    },
  );
  app.connectMicroservice(natsMicroserviceOptions(config.NATS_URL, 'orders'), { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, '0.0.0.0');
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `orders failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
