import { Injectable, NotFoundException } from '@nestjs/common';

import { RefreshTokensRepository } from '../sessions/refresh-tokens.repository';
import { UsersRepository } from '../users/users.repository';
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
    const entry = await this.refreshTokens.transaction(async (tx) => {
      // taken once no session is being started for the user (SECURITY S12): every token issued so
      // far has iat <= at, and every later login or refresh sees the block
      const user = await this.users.findLocked(userId, 'update', tx);
      if (user === undefined) return undefined;
      // the id as stored, which tokens carry as `sub`: the database matched `userId` whatever its case
      const { id } = user;
      // SECURITY S6: a per-subject not-before, by the database's clock that dates the user's tokens;
      // verifiers refuse tokens with iat <= at
      const revocation = this.revocations.subjectEntry(id, await this.users.endSessions(id, tx));
      await this.users.setBlockedAt(id, new Date(), tx);
      await this.refreshTokens.revokeUser(id, tx);
      await this.revocations.record(revocation, tx);
      return revocation;
    });
    if (entry === undefined) throw new NotFoundException('User not found');
    this.revocations.release(entry);
  }

  /** Lets the user log in again; tokens issued before the block stay refused (the entry stays). */
  async unblock(userId: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (user === undefined) throw new NotFoundException('User not found');
    if (user.blockedAt === null) return;
    // a block made since it was read stays; a login after this is dated after the block (sessionTime)
    await this.users.unblockIfStill(userId, user.blockedAt);
  }
}
