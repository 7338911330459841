import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { CurrentPrincipal, type Principal, Public } from '@relay/auth';
import { ApiBearerToken, ErrorResponse } from '@relay/observability';

import { type LoginAttempts, LoginThrottledException } from '../sessions/login-attempts';
import { REGISTRATION_ATTEMPTS } from '../sessions/login-attempts.module';
import { RegisterUserDto } from './dto/register-user.dto';
import { toUserResponse, UserResponse } from './dto/user.response';
import { UsersService } from './users.service';
import { UserTokenGuard } from '../tokens/user-token.guard';

@Controller('auth')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    @Inject(REGISTRATION_ATTEMPTS) private readonly registrations: LoginAttempts,
  ) {}

  /** Every registration counts against its address (AUTH_REGISTRATIONS_PER_ADDRESS per 15 minutes), taken or not. */
  @Public()
  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  @ApiCreatedResponse({ type: UserResponse, description: 'A new customer' })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'The email is taken (compared case-insensitively)',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorResponse,
    description: 'Too many registrations from this address',
    headers: {
      'Retry-After': { description: 'Seconds until another attempt is counted', schema: { type: 'integer' } },
    },
  })
  async register(
    @Body() body: RegisterUserDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserResponse> {
    // per address only (the registrations throttle's keys are its own: REGISTRATION_ATTEMPTS)
    const attempt = await this.registrations.begin(request.ip, request.ip);
    if (attempt.retryAfterSeconds > 0) {
      reply.header('Retry-After', String(attempt.retryAfterSeconds));
      throw new LoginThrottledException(
        attempt.retryAfterSeconds,
        'Too many registrations from this address; retry later',
      );
    }
    try {
      return toUserResponse(await this.users.register(body.email, body.password));
    } finally {
      // stays counted; this drops the address's rows past the window
      await attempt.failed();
    }
  }

  @Get('me')
  @UseGuards(UserTokenGuard)
  @ApiBearerToken()
  @ApiOkResponse({ type: UserResponse })
  async me(@CurrentPrincipal() principal: Principal): Promise<UserResponse> {
    return toUserResponse(await this.users.get(principal.subject));
  }
}
