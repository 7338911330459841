import { Module } from '@nestjs/common';

import { KeysModule } from '../keys/keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminKeysController } from './admin-keys.controller';
import { AdminUsersController } from './admin-users.controller';
import { RevocationModule } from './revocation/revocation.module';
import { UserBlockingService } from './user-blocking.service';

@Module({
  imports: [UsersModule, SessionsModule, KeysModule, RevocationModule],
  controllers: [AdminUsersController, AdminKeysController],
  providers: [UserBlockingService],
})
export class AdminModule {}
