import { Body, Controller, HttpCode, HttpStatus, Logger, Post, UseGuards } from '@nestjs/common';

import { ApiCreatedResponse } from '@nestjs/swagger';

import { Roles, Scopes } from '@relay/auth';
import { UserScopes } from '@relay/contracts';
import { ApiBearerToken } from '@relay/observability';

import { SigningKeysService } from '../keys/signing-keys.service';
import { CurrentSessionGuard } from './current-session.guard';
import { RevocationPublisher } from './revocation/revocation.publisher';
import { EmptyBody } from '../http/empty-body';

@Roles('admin')
@Scopes(UserScopes.authAdmin)
@ApiBearerToken()
@UseGuards(CurrentSessionGuard)
@Controller('auth/admin/keys')
export class AdminKeysController {
  private readonly logger = new Logger(AdminKeysController.name);

  constructor(
    private readonly keys: SigningKeysService,
    private readonly events: RevocationPublisher,
  ) {}

  /** New tokens are signed with a new key; the old one stays in the JWKS until its tokens expire. */
  @Post('rotate')
  @HttpCode(HttpStatus.CREATED)
  @ApiCreatedResponse({
    description: 'New tokens use the new key; every service accepts them from 1 s after this answer',
    schema: { type: 'object', required: ['kid'], properties: { kid: { type: 'string' } } },
  })
  async rotate(@Body() _body: EmptyBody): Promise<{ kid: string }> {
    const kid = await this.keys.rotate();
    try {
      // after the commit: verifiers that refetch now see the new key
      await this.events.announceKeyRotation(kid);
    } catch (error) {
      // verifiers still refetch on the unknown kid (rate-limited), so rotation works without the event
      this.logger.warn(
        `Key rotation not announced: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return { kid };
  }
}
