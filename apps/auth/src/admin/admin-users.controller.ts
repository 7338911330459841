import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';

import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
} from '@nestjs/swagger';

import { Roles, Scopes } from '@relay/auth';
import { UserScopes } from '@relay/contracts';
import { ApiBearerToken, ErrorResponse } from '@relay/observability';

import { AdminUserResponse, toAdminUserResponse } from '../users/dto/user.response';
import { UsersService } from '../users/users.service';
import { ListUsersQuery } from './dto/list-users.query';
import { CurrentSessionGuard } from './current-session.guard';
import { UserBlockingService } from './user-blocking.service';
import { EmptyBody } from '../http/empty-body';

@Roles('admin')
@Scopes(UserScopes.authAdmin)
@ApiBearerToken()
@UseGuards(CurrentSessionGuard)
@Controller('auth/admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly blocking: UserBlockingService,
  ) {}

  @Get()
  @ApiOkResponse({ type: [AdminUserResponse], description: 'Admin only' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'An invalid or unknown query parameter' })
  async list(@Query() query: ListUsersQuery): Promise<AdminUserResponse[]> {
    return (await this.users.list(query.email)).map(toAdminUserResponse);
  }

  @Post(':id/block')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({
    description:
      'Blocked: within 1 s every token of the user is refused everywhere; its refresh tokens are dead',
  })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such user' })
  block(@Param('id', ParseUUIDPipe) id: string, @Body() _body: EmptyBody): Promise<void> {
    return this.blocking.block(id);
  }

  @Post(':id/unblock')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'New logins work again; tokens issued before the block stay refused' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such user' })
  unblock(@Param('id', ParseUUIDPipe) id: string, @Body() _body: EmptyBody): Promise<void> {
    return this.blocking.unblock(id);
  }
}
