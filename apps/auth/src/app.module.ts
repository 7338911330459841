import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_PIPE } from '@nestjs/core';

import { AuthModule, StrictValidationPipe } from '@relay/auth';
import { serviceConfigModule } from '@relay/config';
import { DatabaseModule } from '@relay/database';
import { HealthModule } from '@relay/health';
import { ObservabilityModule } from '@relay/observability';

import { AdminModule } from './admin/admin.module';
import { type AuthConfig, userTokenAudiences, validateAuthConfig } from './config/auth.config';
import { AUTH_MIGRATIONS } from './database/migrations';
import { KeysModule } from './keys/keys.module';
import { SigningKeysService } from './keys/signing-keys.service';
import { SessionsModule } from './sessions/sessions.module';
import { TokensModule } from './tokens/tokens.module';
import { UsersModule } from './users/users.module';

/**
 * Composition root. Public routes: register, login, refresh, /oauth/token, /.well-known/*, /health.
 * Everything else needs a Bearer user token (AuthModule installs AccessTokenGuard as APP_GUARD and
 * TransportExceptionFilter as APP_FILTER; UserTokenGuard refuses the other tokens that name the same
 * audience); admin routes need the admin role.
 */
@Module({
  imports: [
    serviceConfigModule(validateAuthConfig),
    DatabaseModule.forService('auth', AUTH_MIGRATIONS),
    AuthModule.forRootAsync({
      imports: [KeysModule],
      inject: [ConfigService, SigningKeysService],
      useFactory: (config: ConfigService<AuthConfig, true>, keys: SigningKeysService) => ({
        issuer: config.get('AUTH_ISSUER', { infer: true }),
        // auth has no audience of its own: user tokens carry the resource servers' (CONTRACT), every
        // one of them, so its own routes check the first; UserTokenGuard then refuses a service's or
        // an exchanged token naming it
        audience: userTokenAudiences({
          ACCESS_TOKEN_AUDIENCE: config.get('ACCESS_TOKEN_AUDIENCE', { infer: true }),
        })[0],
        natsUrl: config.get('NATS_URL', { infer: true }),
        natsTlsCaFile: config.get('NATS_TLS_CA_FILE', { infer: true }),
        natsNkeySeedFile: config.get('NATS_NKEY_SEED_FILE', { infer: true }),
        serviceName: 'auth',
        // the issuer applies its own revocations at once: it can take a logout while NATS is down
        revocationOutage: 'last-known',
        // the issuer verifies with its own key set: never an HTTP fetch of its own JWKS
        keyResolver: keys.keyResolver,
      }),
    }),
    HealthModule.forRoot({ revocationFeed: false }),
    ObservabilityModule.forRoot({ service: 'auth' }),
    UsersModule,
    SessionsModule,
    TokensModule,
    KeysModule,
    AdminModule,
  ],
  // unknown fields refused without their names: a token pasted as a key is not sent back
  providers: [{ provide: APP_PIPE, useClass: StrictValidationPipe }],
})
export class AppModule {}
