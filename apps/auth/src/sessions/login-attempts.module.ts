import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { AuthConfig } from '../config/auth.config';
import { DEFAULT_LOGIN_ATTEMPT_LIMITS, LoginAttempts } from './login-attempts';
import { LoginFailuresRepository } from './login-failures.repository';

/** The registrations throttle: a `LoginAttempts` whose every limit is AUTH_REGISTRATIONS_PER_ADDRESS per 15 minutes. */
export const REGISTRATION_ATTEMPTS = Symbol('REGISTRATION_ATTEMPTS');

/**
 * The client-authentication throttle: the login limits per client and address and per address, none
 * per client alone (with secrets of 32+ characters a distributed guess is hopeless, and such a limit
 * would let anyone lock a service out).
 */
export const CLIENT_ATTEMPTS = Symbol('CLIENT_ATTEMPTS');

// one window for every throttle: a prune drops every row older than the longest window it knows
const WINDOW_MS = DEFAULT_LOGIN_ATTEMPT_LIMITS.account.windowMs;

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
          windowMs: WINDOW_MS,
        };
        const limits = { accountAndAddress: limit, account: limit, address: limit };
        return new LoginAttempts(failures, limits, Date.now, 'registration|');
      },
    },
    {
      provide: CLIENT_ATTEMPTS,
      inject: [LoginFailuresRepository],
      useFactory: (failures: LoginFailuresRepository) =>
        new LoginAttempts(
          failures,
          { ...DEFAULT_LOGIN_ATTEMPT_LIMITS, account: undefined },
          Date.now,
          'client|',
        ),
    },
  ],
  exports: [LoginAttempts, REGISTRATION_ATTEMPTS, CLIENT_ATTEMPTS],
})
export class LoginAttemptsModule {}
