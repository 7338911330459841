import { Body, Controller, Header, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { CurrentPrincipal, type Principal, Public } from '@relay/auth';

import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { LoginThrottledException } from './login-attempts';
import { SessionsService } from './sessions.service';
import type { TokenPairResponse } from './token-pair';

@Controller('auth')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  // RFC 6749 §5.1: token responses are never cached
  @Header('Cache-Control', 'no-store')
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
  refresh(@Body() body: RefreshTokenDto): Promise<TokenPairResponse> {
    return this.sessions.refresh(body.refresh_token);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@CurrentPrincipal() principal: Principal, @Body() body: RefreshTokenDto): Promise<void> {
    await this.sessions.logout(principal, body.refresh_token);
  }

  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logoutAll(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.sessions.logoutAll(principal);
  }

  @Post('password')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
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
