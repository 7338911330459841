import { Module } from '@nestjs/common';

import { LoginAttempts } from './login-attempts';
import { LoginFailuresRepository } from './login-failures.repository';

/** The failed-credential throttle (logins, password changes, client authentication), over auth's database. */
@Module({
  providers: [
    LoginFailuresRepository,
    {
      provide: LoginAttempts,
      inject: [LoginFailuresRepository],
      useFactory: (failures: LoginFailuresRepository) => new LoginAttempts(failures),
    },
  ],
  exports: [LoginAttempts],
})
export class LoginAttemptsModule {}
