import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { AuthModule, type AuthModuleOptions } from '@relay/auth';

import { BENCH_AUDIENCE, type TokenWorld } from './issuer';

/** Where and as whom a driver's NATS connections go. */
export type DriverBus = Pick<
  AuthModuleOptions,
  | 'natsUrl'
  | 'serviceName'
  | 'natsTlsCaFile'
  | 'natsNkeySeedFile'
  | 'natsInboxPrefix'
  | 'revocationBucket'
  | 'createRevocationBucket'
>;

/**
 * A Nest application context in the bench process holding `AuthModule` (the same options as the
 * targets): its `AccessTokenVerifier` is measured in-process and its `RelayNatsClient` sends the hop.
 * `bus` puts it on another bus than the bench's, e.g. the closed one under a service's identity.
 */
export async function createDriver(
  world: TokenWorld,
  bus: DriverBus = { natsUrl: world.natsUrl, serviceName: 'bench-driver', revocationBucket: world.bucket },
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      AuthModule.forRoot({
        issuer: world.issuer.issuer,
        audience: BENCH_AUDIENCE,
        jwksUri: world.jwks.url,
        ...bus,
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
