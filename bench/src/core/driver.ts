import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { AuthModule } from '@relay/auth';

import { BENCH_AUDIENCE, type TokenWorld } from './issuer';

/**
 * A Nest application context in the bench process holding `AuthModule` (the same options as the
 * targets): its `AccessTokenVerifier` is measured in-process and its `RelayNatsClient` sends the hop.
 */
export async function createDriver(world: TokenWorld): Promise<INestApplicationContext> {
  @Module({
    imports: [
      AuthModule.forRoot({
        issuer: world.issuer.issuer,
        audience: BENCH_AUDIENCE,
        jwksUri: world.jwks.url,
        natsUrl: world.natsUrl,
        serviceName: 'bench-driver',
        revocationBucket: world.bucket,
      }),
    ],
  })
  class BenchDriverModule {}

  const context = await NestFactory.createApplicationContext(BenchDriverModule, {
    logger: ['error', 'warn'],
  });
  await context.init();
  return context;
}
