import { Module } from '@nestjs/common';

import { RevocationModule } from '../admin/revocation/revocation.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { LoginAttempts } from './login-attempts';
import { LoginFailuresRepository } from './login-failures.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [UsersModule, TokensModule, RevocationModule],
  controllers: [SessionsController],
  providers: [
    SessionsService,
    RefreshTokensRepository,
    LoginFailuresRepository,
    {
      provide: LoginAttempts,
      inject: [LoginFailuresRepository],
      useFactory: (failures: LoginFailuresRepository) => new LoginAttempts(failures),
    },
  ],
  exports: [SessionsService, RefreshTokensRepository],
})
export class SessionsModule {}
