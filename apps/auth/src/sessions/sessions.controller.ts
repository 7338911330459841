import { Body, Controller, Header, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { CurrentPrincipal, type Principal, Public } from '@relay/auth';

import { LoginDto } from './dto/login.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { LoginThrottledException, SessionsService } from './sessions.service';
import type { TokenPairResponse } from './token-pair';

@Controller('auth')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  // RFC 6749 §5.1: token responses are never cached
  @Header('Cache-Control', 'no-store')
  async login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPairResponse> {
    try {
      // request.ip honours X-Forwarded-For only from AUTH_TRUSTED_PROXY (Fastify trustProxy)
      return await this.sessions.login(body.email, body.password, request.ip);
    } catch (error) {
      if (error instanceof LoginThrottledException) {
        reply.header('Retry-After', String(error.retryAfterSeconds));
      }
      throw error;
    }
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
}
