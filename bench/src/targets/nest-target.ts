import { Controller, Get, Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE, NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { authAppProviders, AuthModule, natsMicroserviceOptions, Public, Roles } from '@relay/auth';

import { runTarget, targetConfig } from '../core/target-process';
import { BENCH_REPLY, BenchSubjects, type TargetConfig, type TargetReady } from './target-config';

// The same handler twice, guarded and @Public(), in one app wired exactly like apps/inventory
// (guards, filter and pipe as APP_* providers, NATS inheriting the app config), so the
// difference between the two is the cost of authentication and nothing else.
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

@Controller()
class BenchRpcController {
  @MessagePattern(BenchSubjects.guarded)
  @Roles('customer', 'admin')
  guarded(): typeof BENCH_REPLY {
    return BENCH_REPLY;
  }

  @Public()
  @MessagePattern(BenchSubjects.public)
  open(): typeof BENCH_REPLY {
    return BENCH_REPLY;
  }
}

runTarget<TargetReady>(async () => {
  const config = targetConfig<TargetConfig>();

  @Module({
    imports: [
      AuthModule.forRoot({
        issuer: config.issuer,
        audience: config.audience,
        jwksUri: config.jwksUri,
        natsUrl: config.natsUrl,
        serviceName: 'bench-target',
        revocationBucket: config.revocationBucket,
      }),
    ],
    controllers: [BenchController, BenchRpcController],
    providers: [
      ...authAppProviders(),
      {
        provide: APP_PIPE,
        useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
      },
    ],
  })
  class BenchTargetModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    BenchTargetModule,
    new FastifyAdapter({ bodyLimit: 1_048_576 }),
    {
      logger: ['error', 'warn'],
    },
  );
  app.connectMicroservice(natsMicroserviceOptions({ url: config.natsUrl, name: 'bench-target' }), {
    inheritAppConfig: true,
  });
  await app.init();
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { data: { httpUrl: url }, close: () => app.close() };
});
