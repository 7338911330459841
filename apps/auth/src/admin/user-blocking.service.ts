import { Injectable, NotFoundException } from '@nestjs/common';

import { RefreshTokensRepository } from '../sessions/refresh-tokens.repository';
import { UsersRepository } from '../users/users.repository';
import { afterSecondOf, epochSeconds } from './revocation/not-before';
import { RevocationPublisher } from './revocation/revocation.publisher';

/** Blocking a user kills every token it holds, everywhere; unblocking lets it log in again. */
@Injectable()
export class UserBlockingService {
  constructor(
    private readonly users: UsersRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly revocations: RevocationPublisher,
  ) {}

  /** Marks the user blocked, revokes its refresh tokens, and refuses its access tokens issued until now. */
  async block(userId: string): Promise<void> {
    const blockedAt = new Date();
    const user = await this.refreshTokens.transaction(async (tx) => {
      const updated = await this.users.setBlockedAt(userId, blockedAt, tx);
      if (updated !== undefined) await this.refreshTokens.revokeUser(userId, tx);
      return updated;
    });
    if (user === undefined) throw new NotFoundException('User not found');
    // SECURITY S6: a per-subject not-before; verifiers refuse tokens with iat <= at
    await this.revocations.revokeSubjectBefore(userId, epochSeconds(blockedAt));
  }

  /** Lets the user log in again; tokens issued before the block stay refused (the entry stays). */
  async unblock(userId: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (user === undefined) throw new NotFoundException('User not found');
    if (user.blockedAt !== null) await afterSecondOf(user.blockedAt);
    await this.users.setBlockedAt(userId, null);
  }
}
