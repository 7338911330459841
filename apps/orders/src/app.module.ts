import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_PIPE } from '@nestjs/core';

import { AuthModule, StrictValidationPipe } from '@relay/auth';
import { serviceConfigModule } from '@relay/config';
import { DatabaseModule } from '@relay/database';
import { HealthModule } from '@relay/health';
import { ObservabilityModule } from '@relay/observability';

import { type OrdersConfig, validateOrdersConfig } from './config/orders.config';
import { ordersMigrations } from './database/migrations';
import { OrdersModule } from './orders/orders.module';

// Composition root: AuthModule installs AccessTokenGuard (APP_GUARD: token, roles, scopes) and
// TransportExceptionFilter (APP_FILTER), so every HTTP route and NATS handler passes the guard; only
// GET /health is @Public(). The pipe is global (not main.ts) so NATS payloads are validated too.
@Module({
  imports: [
    serviceConfigModule(validateOrdersConfig),
    DatabaseModule.forService('orders', ordersMigrations),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrdersConfig, true>) => ({
        issuer: config.get('AUTH_ISSUER', { infer: true }),
        audience: config.get('AUTH_AUDIENCE', { infer: true }),
        jwksUri: config.get('AUTH_JWKS_URI', { infer: true }),
        natsUrl: config.get('NATS_URL', { infer: true }),
        natsTlsCaFile: config.get('NATS_TLS_CA_FILE', { infer: true }),
        natsNkeySeedFile: config.get('NATS_NKEY_SEED_FILE', { infer: true }),
        serviceName: 'orders',
        // auth creates the revocation bucket; this identity may only read it (the closed bus)
        createRevocationBucket: false,
        rpcTimeoutMs: config.get('ORDERS_RPC_TIMEOUT_MS', { infer: true }),
        // exchange: inventory gets a token narrowed to its audience; the client credentials also
        // obtain orders' own token for releases that have no caller (ReleaseSweeper)
        propagation: config.get('PROPAGATION_MODE', { infer: true }),
        clientId: config.get('AUTH_CLIENT_ID', { infer: true }),
        clientSecret: config.get('AUTH_CLIENT_SECRET', { infer: true }),
      }),
    }),
    HealthModule.forRoot(),
    ObservabilityModule.forRoot({ service: 'orders' }),
    OrdersModule,
  ],
  providers: [{ provide: APP_PIPE, useClass: StrictValidationPipe }],
})
export class AppModule {}
