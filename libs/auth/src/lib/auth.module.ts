import { Module } from '@nestjs/common';

import { AccessTokenVerifier } from './access-token/access-token-verifier';
import { ConfigurableModuleClass } from './auth.module-definition';
import { HttpCallContext } from './call-context/http-call-context';
import { TransportExceptionFilter } from './errors/transport-exception.filter';
import { AccessTokenGuard } from './guards/access-token.guard';
import { RolesGuard } from './guards/roles.guard';
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
 *
 * @example
 * AuthModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService<OrdersConfig, true>) => ({
 *     issuer: config.get('AUTH_ISSUER'), audience: config.get('AUTH_AUDIENCE'),
 *     jwksUri: config.get('AUTH_JWKS_URI'), natsUrl: config.get('NATS_URL'), serviceName: 'orders',
 *   }),
 * })
 * // providers: [...authAppProviders()]: AccessTokenGuard as APP_GUARD, TransportExceptionFilter as APP_FILTER
 *
 * Each HTTP request runs in its own `CallContext` (a Fastify hook this module installs), as does each
 * NATS message of a microservice connected with `natsMicroserviceOptions()`.
 */
@Module({
  providers: [...EXPORTED, KeysRotatedListener, HttpCallContext],
  exports: EXPORTED,
})
export class AuthModule extends ConfigurableModuleClass {}
