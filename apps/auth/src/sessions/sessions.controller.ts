import { Body, Controller, Header, HttpCode, HttpStatus, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { CurrentPrincipal, type Principal, Public } from '@relay/auth';
import { ApiBearerToken, ErrorResponse } from '@relay/observability';

import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { LoginThrottledException } from './login-attempts';
import { SessionsService } from './sessions.service';
import { TokenPairResponse } from './token-pair';
import { EmptyBody } from '../http/empty-body';
import { UserTokenGuard } from '../tokens/user-token.guard';

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds until another attempt is counted', schema: { type: 'integer' } },
};

@Controller('auth')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  // RFC 6749 §5.1: token responses are never cached
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TokenPairResponse })
  @ApiUnauthorizedResponse({
    type: ErrorResponse,
    description: 'Wrong email or password: the same answer whether or not the email exists',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorResponse,
    description: 'Too many failed logins for this account or address',
    headers: RETRY_AFTER,
  })
  login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPairResponse> {
    // request.ip honours X-Forwarded-For only from AUTH_TRUSTED_PROXY (Fastify trustProxy)
    return withRetryAfter(reply, this.sessions.login(body.email, body.password, request.ip));
  }

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TokenPairResponse, description: 'A new pair; the refresh token sent is spent' })
  @ApiUnauthorizedResponse({
    type: ErrorResponse,
    description: 'Unknown, expired, spent or revoked refresh token',
  })
  refresh(@Body() body: RefreshTokenDto): Promise<TokenPairResponse> {
    return this.sessions.refresh(body.refresh_token);
  }

  @Post('logout')
  @UseGuards(UserTokenGuard)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerToken()
  @ApiNoContentResponse({
    description:
      'The login session (`sid`) ended: its refresh tokens and access tokens are refused everywhere',
  })
  async logout(@CurrentPrincipal() principal: Principal, @Body() body: RefreshTokenDto): Promise<void> {
    await this.sessions.logout(principal, body.refresh_token);
  }

  @Post('logout-all')
  @UseGuards(UserTokenGuard)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerToken()
  @ApiNoContentResponse({ description: 'Every login session of the caller ended' })
  async logoutAll(@CurrentPrincipal() principal: Principal, @Body() _body: EmptyBody): Promise<void> {
    await this.sessions.logoutAll(principal);
  }

  @Post('password')
  @UseGuards(UserTokenGuard)
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiBearerToken()
  @ApiOkResponse({
    type: TokenPairResponse,
    description: 'A pair of a new login session; every earlier session of the user is ended',
  })
  @ApiUnauthorizedResponse({
    type: ErrorResponse,
    description: 'Wrong current password (counted like a failed login), or a refused access token',
    headers: {
      'WWW-Authenticate': {
        description: '`Bearer error="invalid_token"` (RFC 6750 §3)',
        schema: { type: 'string' },
      },
    },
  })
  @ApiTooManyRequestsResponse({
    type: ErrorResponse,
    description: 'Too many wrong current passwords',
    headers: RETRY_AFTER,
  })
  changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangePasswordDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPairResponse> {
    return withRetryAfter(
      reply,
      this.sessions.changePassword(principal, body.current_password, body.new_password, request.ip),
    );
  }
}

// a throttled attempt (429) tells the client when to retry
async function withRetryAfter<T>(reply: FastifyReply, attempt: Promise<T>): Promise<T> {
  try {
    return await attempt;
  } catch (error) {
    if (error instanceof LoginThrottledException) {
      reply.header('Retry-After', String(error.retryAfterSeconds));
    }
    throw error;
  }
}
