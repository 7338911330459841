import { Controller, HttpCode, HttpStatus, Logger, Post } from '@nestjs/common';

import { Roles } from '@relay/auth';

import { SigningKeysService } from '../keys/signing-keys.service';
import { RevocationPublisher } from './revocation/revocation.publisher';

@Roles('admin')
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
  async rotate(): Promise<{ kid: string }> {
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
