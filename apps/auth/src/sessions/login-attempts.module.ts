import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { AuthConfig } from '../config/auth.config';
import { LoginAttempts } from './login-attempts';
import { LoginFailuresRepository } from './login-failures.repository';

/** The registrations throttle: a `LoginAttempts` whose every limit is AUTH_REGISTRATIONS_PER_ADDRESS an hour. */
export const REGISTRATION_ATTEMPTS = Symbol('REGISTRATION_ATTEMPTS');

const HOUR_MS = 60 * 60 * 1000;

/**
 * The throttles over auth's database: failed credentials (logins, password changes, client
 * authentication) and registrations per address.
 */
@Module({
  providers: [
    LoginFailuresRepository,
    {
      provide: LoginAttempts,
      inject: [LoginFailuresRepository],
      useFactory: (failures: LoginFailuresRepository) => new LoginAttempts(failures),
    },
    {
      provide: REGISTRATION_ATTEMPTS,
      inject: [LoginFailuresRepository, ConfigService],
      useFactory: (failures: LoginFailuresRepository, config: ConfigService<AuthConfig, true>) => {
        const limit = {
          maxFailures: config.get('AUTH_REGISTRATIONS_PER_ADDRESS', { infer: true }),
          windowMs: HOUR_MS,
        };
        return new LoginAttempts(failures, { accountAndAddress: limit, account: limit, address: limit });
      },
    },
  ],
  exports: [LoginAttempts, REGISTRATION_ATTEMPTS],
})
export class LoginAttemptsModule {}
