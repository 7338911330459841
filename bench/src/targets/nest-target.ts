import {
  type DynamicModule,
  Controller,
  Get,
  type INestApplication,
  type LogLevel,
  Module,
  type Type,
  ValidationPipe,
} from '@nestjs/common';
import { APP_PIPE, NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoNestLogger } from 'nestjs-pino';

import { AuthModule, natsMicroserviceOptions, Public, Roles } from '@relay/auth';
import { LoggingModule, MetricsModule, startTracing } from '@relay/observability';

import { runTarget, targetConfig } from '../core/target-process';
import {
  BENCH_REPLY,
  type RpcSubjects,
  type TargetAdapter,
  type TargetConfig,
  type TargetObservability,
  type TargetReady,
} from './target-config';

// The same handler twice, guarded and @Public(), in one app wired exactly like apps/inventory
// (AuthModule's guard and filter, the pipe as APP_PIPE, NATS inheriting the app config), so the
// difference between the two is the cost of authentication and nothing else. The same module serves
// on Fastify (the Relay apps' adapter) or on Nest's default Express adapter (`config.adapter`).
@Controller('bench')
class BenchController {
  @Get('guarded')
  @Roles('customer', 'admin')
  guarded(): typeof BENCH_REPLY {
    return BENCH_REPLY;
  }

  @Public()
  @Get('public')
  open(): typeof BENCH_REPLY {
    return BENCH_REPLY;
  }
}

// Built per target: the closed-bus hop's targets answer on subjects the bus lets them subscribe.
function rpcController(subjects: RpcSubjects): Type<unknown> {
  @Controller()
  class BenchRpcController {
    @MessagePattern(subjects.guarded)
    @Roles('customer', 'admin')
    guarded(): typeof BENCH_REPLY {
      return BENCH_REPLY;
    }

    @Public()
    @MessagePattern(subjects.public)
    open(): typeof BENCH_REPLY {
      return BENCH_REPLY;
    }
  }
  return BenchRpcController;
}

runTarget<TargetReady>(async () => {
  const config = targetConfig<TargetConfig>();
  const identity = config.identity;
  const observability = config.observability;
  // before the app exists, as runService does: every span the app opens has the SDK behind it
  if (observability?.otlpEndpoint !== undefined) {
    startTracing('bench-target', { OTEL_EXPORTER_OTLP_ENDPOINT: observability.otlpEndpoint });
  }

  @Module({
    imports: [
      AuthModule.forRoot({
        issuer: config.issuer,
        audience: config.audience,
        jwksUri: config.jwksUri,
        natsUrl: config.natsUrl,
        serviceName: 'bench-target',
        natsTlsCaFile: identity?.tlsCaFile,
        natsNkeySeedFile: identity?.nkeySeedFile,
        natsInboxPrefix: identity?.inboxPrefix,
        revocationBucket: config.revocationBucket,
        createRevocationBucket: config.createRevocationBucket,
      }),
      ...observabilityModules(observability),
    ],
    controllers: [BenchController, rpcController(config.subjects)],
    providers: [
      {
        provide: APP_PIPE,
        useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
      },
    ],
  })
  class BenchTargetModule {}

  const app = await createApp(BenchTargetModule, config.adapter ?? 'fastify');
  // as createServiceApp does: Nest's lines and the access log through the app's pino logger
  if (observability?.logs === true) app.useLogger(app.get(PinoNestLogger));
  app.connectMicroservice(
    natsMicroserviceOptions({
      url: config.natsUrl,
      name: 'bench-target',
      tlsCaFile: identity?.tlsCaFile,
      nkeySeedFile: identity?.nkeySeedFile,
      inboxPrefix: identity?.inboxPrefix,
    }),
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { data: { httpUrl: url }, close: () => app.close() };
});

// the Relay apps import all of ObservabilityModule; the bench turns each part on alone to price it
function observabilityModules(observability: TargetObservability | undefined): DynamicModule[] {
  const service = { service: 'bench-target' };
  return [
    ...(observability?.logs === true ? [LoggingModule.forRoot(service)] : []),
    ...(observability?.metrics === true ? [MetricsModule.forRoot(service)] : []),
  ];
}

/**
 * The app on `adapter`: Fastify with the Relay apps' body limit, or Express as `NestFactory.create()`
 * gives it without an adapter (what `nx g @nx/nest:app` generates: its defaults, body parsers included).
 */
async function createApp(module: Type<unknown>, adapter: TargetAdapter): Promise<INestApplication> {
  const options = { logger: ['error', 'warn'] satisfies LogLevel[] };
  if (adapter === 'express') {
    return NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), options);
  }
  return NestFactory.create<NestFastifyApplication>(
    module,
    new FastifyAdapter({ bodyLimit: 1_048_576 }),
    options,
  );
}
