import { Module } from '@nestjs/common';

import { RevocationModule } from '../admin/revocation/revocation.module';
import { TokensModule } from '../tokens/tokens.module';
import { AdminBootstrap } from '../users/admin-bootstrap';
import { UsersModule } from '../users/users.module';
import { LoginAttemptsModule } from './login-attempts.module';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [UsersModule, TokensModule, RevocationModule, LoginAttemptsModule],
  controllers: [SessionsController],
  providers: [SessionsService, RefreshTokensRepository, AdminBootstrap],
  exports: [SessionsService, RefreshTokensRepository],
})
export class SessionsModule {}
