import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';

import { AccessTokenVerifier } from './access-token/access-token-verifier';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './auth.module-definition';
import { HttpCallContext } from './call-context/http-call-context';
import { TransportExceptionFilter } from './errors/transport-exception.filter';
import { AccessTokenGuard } from './guards/access-token.guard';
import { RolesGuard } from './guards/roles.guard';
import { GuardProbeController } from './nats/guard-probe.controller';
import { KeysRotatedListener } from './nats/keys-rotated.listener';
import { RelayHttpClient } from './http/relay-http-client';
import { RelayNatsClient } from './nats/relay-nats-client';
import { OutgoingAuthorization } from './propagation/outgoing-authorization';
import { RevocationList } from './revocation/revocation-list';

const EXPORTED = [
  AccessTokenVerifier,
  RevocationList,
  RelayNatsClient,
  RelayHttpClient,
  OutgoingAuthorization,
  AccessTokenGuard,
  RolesGuard,
  TransportExceptionFilter,
];

/**
 * Access-token verification (HTTP + NATS), roles, caller context and header propagation. Global.
 * Secure by default: importing it installs `AccessTokenGuard` as `APP_GUARD` (every HTTP route and
 * NATS handler needs a verified caller unless it is `@Public()`) and `TransportExceptionFilter` as
 * `APP_FILTER`; `installGlobalGuard: false` (beside `useFactory`, not in what it returns) leaves
 * guarding to the app.
 *
 * @example
 * AuthModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService<OrdersConfig, true>) => ({
 *     issuer: config.get('AUTH_ISSUER'), audience: config.get('AUTH_AUDIENCE'),
 *     jwksUri: config.get('AUTH_JWKS_URI'), natsUrl: config.get('NATS_URL'), serviceName: 'orders',
 *   }),
 * })
 *
 * Each HTTP request runs in its own `CallContext` (a Fastify hook or an Express middleware this
 * module installs), as does each NATS message of a microservice connected with `natsMicroserviceOptions()`.
 */
@Module({
  providers: [...EXPORTED, KeysRotatedListener, HttpCallContext],
  exports: EXPORTED,
})
export class AuthModule extends ConfigurableModuleClass implements NestModule {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withAppProviders(super.forRoot(options), options.installGlobalGuard);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withAppProviders(super.forRootAsync(options), options.installGlobalGuard);
  }

  constructor(private readonly httpCallContext: HttpCallContext) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    this.httpCallContext.configure(consumer);
  }
}

/**
 * `TransportExceptionFilter` as `APP_FILTER` always (it gives refusals their status, `WWW-Authenticate`
 * and NATS error shape, whichever guard refused), and `AccessTokenGuard` as `APP_GUARD` unless the app
 * opted out, with the probe that proves the guard reaches the NATS handlers (`GuardProbeController`).
 * Only the literal `false` opts out: a missing or mistyped value keeps the guard.
 */
function withAppProviders(definition: DynamicModule, installGlobalGuard: boolean | undefined): DynamicModule {
  const appProviders: Provider[] = [{ provide: APP_FILTER, useClass: TransportExceptionFilter }];
  if (installGlobalGuard === false) {
    return { ...definition, providers: [...(definition.providers ?? []), ...appProviders] };
  }
  appProviders.push({ provide: APP_GUARD, useClass: AccessTokenGuard });
  return {
    ...definition,
    providers: [...(definition.providers ?? []), ...appProviders],
    controllers: [...(definition.controllers ?? []), GuardProbeController],
  };
}
