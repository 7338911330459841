import { Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';

import { Roles } from '@relay/auth';

import { type AdminUserResponse, toAdminUserResponse } from '../users/dto/user.response';
import { UsersService } from '../users/users.service';
import { ListUsersQuery } from './dto/list-users.query';
import { UserBlockingService } from './user-blocking.service';

@Roles('admin')
@Controller('auth/admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly blocking: UserBlockingService,
  ) {}

  @Get()
  async list(@Query() query: ListUsersQuery): Promise<AdminUserResponse[]> {
    return (await this.users.list(query.email)).map(toAdminUserResponse);
  }

  @Post(':id/block')
  @HttpCode(HttpStatus.NO_CONTENT)
  block(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.blocking.block(id);
  }

  @Post(':id/unblock')
  @HttpCode(HttpStatus.NO_CONTENT)
  unblock(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.blocking.unblock(id);
  }
}
