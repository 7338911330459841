import { Module } from '@nestjs/common';

import { LoginAttemptsModule } from '../sessions/login-attempts.module';
import { AdminBootstrap } from './admin-bootstrap';
import { PasswordHasher } from './password-hasher';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [LoginAttemptsModule],
  controllers: [UsersController],
  providers: [UsersService, UsersRepository, PasswordHasher, AdminBootstrap],
  exports: [UsersService, UsersRepository, PasswordHasher],
})
export class UsersModule {}
