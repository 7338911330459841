import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { natsMicroserviceOptions } from '@relay/auth';
import { exitOnInvalidEnvironment, nestLogLevels } from '@relay/config';

import { AppModule } from './app.module';
import { validateAuthConfig } from './config/auth.config';
import { createHttpAdapter } from './http/create-http-adapter';

async function bootstrap(): Promise<void> {
  const config = exitOnInvalidEnvironment(validateAuthConfig);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(config), {
    bufferLogs: true,
    logger: nestLogLevels(config.LOG_LEVEL),
  });
  app.connectMicroservice(natsMicroserviceOptions(config.NATS_URL, 'auth'), { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, '0.0.0.0');
}

void bootstrap();
