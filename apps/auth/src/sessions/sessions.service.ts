import { randomUUID } from 'node:crypto';

import {
  ForbiddenException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { Principal } from '@relay/auth';
import type { Queryable } from '@relay/database';

import { RevocationPublisher } from '../admin/revocation/revocation.publisher';
import type { AuthConfig } from '../config/auth.config';
import { type IssuedAccessToken, TokenIssuer } from '../tokens/token-issuer.service';
import { USER_CLIENT_ID } from '../tokens/user-scopes';
import { PasswordHasher } from '../users/password-hasher';
import { normaliseEmail, type User } from '../users/user';
import { UsersRepository } from '../users/users.repository';
import { type LoginAttempt, LoginAttempts, LoginThrottledException } from './login-attempts';
import { generateRefreshToken, hashRefreshToken } from './refresh-token';
import { type NewRefreshToken, RefreshTokensRepository } from './refresh-tokens.repository';
import type { TokenPairResponse } from './token-pair';

/** One body for every failed login, so it never tells whether the email exists (SECURITY P3). */
export const INVALID_CREDENTIALS = 'Invalid email or password';
const INVALID_REFRESH_TOKEN = 'Invalid refresh token';
const INVALID_CURRENT_PASSWORD = 'Invalid current password';
const BLOCKED_USER = 'Unknown or blocked user';
// a login in the second of an ending of every session waits for the next one; endings every second keep it out
const SESSION_START_ATTEMPTS = 3;

/** Login sessions: login, refresh-token rotation with reuse detection, logout, password change. */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  private readonly refreshTtlSeconds: number;

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly issuer: TokenIssuer,
    private readonly revocations: RevocationPublisher,
    private readonly attempts: LoginAttempts,
    config: ConfigService<AuthConfig, true>,
  ) {
    this.refreshTtlSeconds = config.get('REFRESH_TOKEN_TTL', { infer: true });
  }

  /** Starts a new session (`sid`); 401 for a wrong password, unknown email or blocked account alike. */
  async login(email: string, password: string, clientAddress: string): Promise<TokenPairResponse> {
    const account = normaliseEmail(email);
    // counted and checked before the password, so a right guess while throttled learns nothing
    const attempt = await this.attempts.begin(account, clientAddress);
    if (attempt.retryAfterSeconds > 0) throw new LoginThrottledException(attempt.retryAfterSeconds);
    const { user, isPasswordRight } = await checkedOrAbandoned(attempt, async () => {
      const found = await this.users.findByEmail(account);
      return {
        user: found,
        isPasswordRight:
          found === undefined
            ? await this.hasher.verifyNothing(password)
            : await this.hasher.verify(found.passwordHash, password),
      };
    });
    if (user === undefined || !isPasswordRight || user.blockedAt !== null) {
      await attempt.failed();
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    await attempt.succeeded();
    const pair = await this.startSession(user.id, user.passwordHash);
    if (pair === undefined) throw new UnauthorizedException(INVALID_CREDENTIALS);
    return pair;
  }

  /**
   * Rotates a refresh token within its session; a spent token presented again ends the session. The
   * new access token is signed before the rotation commits: a rotation kept whose tokens were never
   * handed out would make the client's retry with the old token a reuse, and end its session.
   */
  async refresh(refreshToken: string): Promise<TokenPairResponse> {
    const hash = hashRefreshToken(refreshToken);
    const next = generateRefreshToken();
    const key = await this.issuer.signingKey();
    const issued = await this.refreshTokens.transaction(async (tx) => {
      // the user's row first, then the token's, in the order a block takes them: never a deadlock
      const owner = await this.refreshTokens.find(hash, tx);
      if (owner === undefined) return undefined;
      const locked = await this.users.lockForSession(owner.userId, tx);
      const issuedAt = locked !== undefined && 'issuedAt' in locked.time ? locked.time.issuedAt : undefined;
      // an ending in this second revoked every refresh token of the user: none gets here, but a
      // database clock stepped back would date the new tokens under its not-before
      if (locked !== undefined && issuedAt === undefined) return undefined;
      const spent = await this.refreshTokens.spend(hash, tx);
      if (spent === undefined) return undefined;
      if (locked === undefined || issuedAt === undefined || locked.user.blockedAt !== null) return undefined;
      await this.refreshTokens.insert(this.newRefreshRecord(next, spent.sessionId, locked.user.id), tx);
      return this.issuer.issueForUser(locked.user, spent.sessionId, { issuedAt, key });
    });
    if (issued === undefined) {
      await this.detectReuse(hash);
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    return tokenPair(issued, next);
  }

  /** Ends the caller's session, given a refresh token of that same session and user. */
  async logout(principal: Principal, refreshToken: string): Promise<void> {
    const record = await this.refreshTokens.find(hashRefreshToken(refreshToken));
    const isCallersSession =
      record !== undefined &&
      principal.sessionId !== undefined &&
      record.sessionId === principal.sessionId &&
      record.userId === principal.subject;
    if (!isCallersSession) throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    await this.endSession(record.sessionId, record.userId);
  }

  /** Ends every login session of the caller (SECURITY S9): as a password change does, without one. */
  async logoutAll(principal: Principal): Promise<void> {
    const user = await this.callingUser(principal);
    await this.endEverySession(user.id);
  }

  /**
   * Replaces the caller's password (the current one checked, and counted and throttled like a login),
   * ends every earlier session everywhere, and starts a new one, returned as a new pair.
   */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    clientAddress: string,
  ): Promise<TokenPairResponse> {
    const user = await this.callingUser(principal);
    const attempt = await this.attempts.begin(user.email, clientAddress);
    if (attempt.retryAfterSeconds > 0) throw new LoginThrottledException(attempt.retryAfterSeconds);
    if (!(await checkedOrAbandoned(attempt, () => this.hasher.verify(user.passwordHash, currentPassword)))) {
      await attempt.failed();
      throw new UnauthorizedException(INVALID_CURRENT_PASSWORD);
    }
    await attempt.succeeded();
    const passwordHash = await this.hasher.hash(newPassword);
    await this.endEverySession(user.id, async (tx) => {
      // the password checked must still be the stored one (another change may have replaced it since),
      // and the account still open: a block during the check leaves the password as it was
      const isReplaced = await this.users.replacePassword(user.id, user.passwordHash, passwordHash, tx, {
        unlessBlocked: true,
      });
      if (isReplaced) return;
      const current = await this.users.findById(user.id, tx);
      if (current === undefined || current.blockedAt !== null) throw new UnauthorizedException(BLOCKED_USER);
      throw new UnauthorizedException(INVALID_CURRENT_PASSWORD);
    });
    // its tokens are dated after the not-before that ended the old sessions (sessionTime)
    const pair = await this.startSession(user.id, passwordHash);
    if (pair === undefined) throw new UnauthorizedException(BLOCKED_USER);
    return pair;
  }

  /**
   * Puts `newHash` in place of the user's password (still `currentHash`: otherwise another reset or
   * change came first, and only the sessions end) and ends every session of the user everywhere, in
   * one transaction: a reset from outside (AUTH_ADMIN_PASSWORD) leaves nothing the old password gave.
   */
  async replacePasswordEverywhere(userId: string, currentHash: string, newHash: string): Promise<void> {
    await this.endEverySession(userId, async (tx) => {
      await this.users.replacePassword(userId, currentHash, newHash, tx);
    });
  }

  /** Revokes every refresh token of the session and, in the same transaction, every access token carrying its `sid`. */
  async endSession(sessionId: string, userId: string): Promise<void> {
    const entry = this.revocations.sessionEntry(sessionId);
    await this.refreshTokens.transaction(async (tx) => {
      // after any refresh of the session in flight (it holds the user's row): its new token is revoked too
      await this.users.findLocked(userId, 'update', tx);
      await this.refreshTokens.revokeSession(sessionId, tx);
      await this.revocations.record(entry, tx);
    });
    this.revocations.release(entry);
  }

  // every refresh token of the user, then (SECURITY S9) a subject not-before: tokens with iat <= now die
  private async endEverySession(
    userId: string,
    alongside: (tx: Queryable) => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    const entry = await this.refreshTokens.transaction(async (tx) => {
      // taken once no session is being started or refreshed for the user: every token issued so far
      // has iat <= at, by the database's clock that dated them (sessionTime)
      await this.users.findLocked(userId, 'update', tx);
      const revocation = this.revocations.subjectEntry(userId, await this.users.endSessions(userId, tx));
      await alongside(tx);
      await this.refreshTokens.revokeUser(userId, tx);
      await this.revocations.record(revocation, tx);
      return revocation;
    });
    this.revocations.release(entry);
  }

  // a user's own token (not a service client's), of an account that still exists and is not blocked
  private async callingUser(principal: Principal): Promise<User> {
    if (principal.clientId !== USER_CLIENT_ID) {
      throw new ForbiddenException('Only a user token ends its sessions');
    }
    const user = await this.users.findById(principal.subject);
    if (user === undefined || user.blockedAt !== null) {
      throw new UnauthorizedException(BLOCKED_USER);
    }
    return user;
  }

  // SECURITY S2 / RFC 9700 §4.14.2: a spent token seen again means it leaked (or was raced);
  // the server cannot tell who is legitimate, so the whole family dies, newest token included
  private async detectReuse(hash: string): Promise<void> {
    const record = await this.refreshTokens.find(hash);
    if (record === undefined || record.spentAt === null || record.revokedAt !== null) return;
    this.logger.warn(`Refresh token reuse detected; ending session ${record.sessionId}`);
    await this.endSession(record.sessionId, record.userId);
  }

  // a new session for a user that is not blocked and whose password hash is still `passwordHash` (the
  // one the caller's password was checked against), in one statement (see insertForActiveUser), dated
  // by the database once it holds the user's row: a block, password change or ending of every session
  // either commits first (a block or new password: nothing starts; an ending: the session starts in
  // the next second, after its not-before) or takes the row after this session's statement has
  // committed, and dates its not-before at or after this iat, by the same clock.
  private async startSession(userId: string, passwordHash: string): Promise<TokenPairResponse | undefined> {
    const sessionId = randomUUID();
    const refreshToken = generateRefreshToken();
    for (let attempt = 1; ; attempt++) {
      const started = await this.refreshTokens.insertForActiveUser(
        this.newRefreshRecord(refreshToken, sessionId, userId),
        passwordHash,
      );
      if (started === undefined) return undefined;
      const { time } = started;
      if ('issuedAt' in time) {
        const issued = await this.issuer.issueForUser(started.user, sessionId, { issuedAt: time.issuedAt });
        return tokenPair(issued, refreshToken);
      }
      // an ending of every session in this very second (one per second at most, each a second's wait)
      if (attempt === SESSION_START_ATTEMPTS) {
        throw new ServiceUnavailableException('Sessions of this account are ending; try again');
      }
      await sleep(time.retryInMs);
    }
  }

  private newRefreshRecord(token: string, sessionId: string, userId: string): NewRefreshToken {
    return {
      hash: hashRefreshToken(token),
      sessionId,
      userId,
      clientId: USER_CLIENT_ID,
      ttlSeconds: this.refreshTtlSeconds,
    };
  }
}

function tokenPair(issued: IssuedAccessToken, refreshToken: string): TokenPairResponse {
  return {
    access_token: issued.accessToken,
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
  };
}

/**
 * The password check of `attempt`; when it cannot be made (the database, or the Argon2 gate's 503
 * under a flood), the attempt is withdrawn before the error goes on: a user told to retry later is
 * not throttled for having been refused.
 */
async function checkedOrAbandoned<T>(attempt: LoginAttempt, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    await attempt.abandoned().catch(() => undefined);
    throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
