import type { INestApplication } from '@nestjs/common';
import { type AbstractHttpAdapter, NestFactory } from '@nestjs/core';
import { natsMicroserviceOptions } from '@relay/auth';

import { AppModule } from './app.module';

/** The shop app on `adapter` (without one, Nest's default: Express), answering on HTTP and NATS. */
export async function createApp(adapter?: AbstractHttpAdapter): Promise<INestApplication> {
  const app = adapter ? await NestFactory.create(AppModule, adapter) : await NestFactory.create(AppModule);
  const nats = natsMicroserviceOptions({ url: process.env['NATS_URL'] ?? '', name: 'shop' });
  app.connectMicroservice(nats, { inheritAppConfig: true });
  await app.init(); // guards and filters in place before the first NATS message
  await app.startAllMicroservices();
  return app;
}

if (require.main === module) {
  void createApp().then((app) => app.listen(Number(process.env['PORT'] ?? 3000), '0.0.0.0'));
}
