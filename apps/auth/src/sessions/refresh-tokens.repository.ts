import { Inject, Injectable } from '@nestjs/common';

import { DATABASE, type Database, type Queryable } from '@relay/database';

import type { User } from '../users/user';
import {
  SESSION_CLOCK_COLUMNS,
  type SessionClockRow,
  sessionTime,
  toUser,
  USER_COLUMNS,
  type UserRow,
} from '../users/users.repository';

/** A stored refresh token (by hash). */
export interface RefreshTokenRecord {
  sessionId: string;
  userId: string;
  clientId: string;
  expiresAt: Date;
  spentAt: Date | null;
  revokedAt: Date | null;
}

/** A refresh token about to be stored. */
export interface NewRefreshToken {
  hash: string;
  sessionId: string;
  userId: string;
  clientId: string;
  ttlSeconds: number;
}

interface RefreshTokenRow {
  session_id: string;
  user_id: string;
  client_id: string;
  expires_at: Date | string;
  spent_at: Date | string | null;
  revoked_at: Date | string | null;
}

const COLUMNS = 'session_id, user_id, client_id, expires_at, spent_at, revoked_at';

/** refresh_tokens table I/O; tokens are addressed only by their SHA-256. */
@Injectable()
export class RefreshTokensRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async insert(token: NewRefreshToken, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `INSERT INTO refresh_tokens (token_hash, session_id, user_id, client_id, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [token.hash, token.sessionId, token.userId, token.clientId, token.ttlSeconds],
    );
  }

  /**
   * Stores the first token of a new session for `token.userId` if that user is not blocked and its
   * password hash is still `passwordHash`, and returns the user with the `iat` of the session's tokens
   * (`sessionTime`, read with the lock held), or, in the second of an ending of every session, with how
   * long to wait before asking again (nothing stored); `undefined` (nothing stored) otherwise.
   * One statement, so one round trip: the user's row is locked (`FOR SHARE`) while the token is
   * inserted, and a block, password change or ending of every session holding the row (`FOR UPDATE`)
   * makes it wait, then look at the row again (READ COMMITTED re-checks the `WHERE` on the row's
   * newest version): a block or a new password stored meanwhile starts nothing, and an ending of every
   * session stored meanwhile puts the session off to the next second.
   */
  async insertForActiveUser(
    token: NewRefreshToken,
    passwordHash: string,
  ): Promise<{ user: User; time: ReturnType<typeof sessionTime> } | undefined> {
    const rows = await this.db.query<UserRow & SessionClockRow>(
      `WITH owner AS (
         SELECT ${USER_COLUMNS}, ${SESSION_CLOCK_COLUMNS} FROM users
         WHERE id = $3 AND blocked_at IS NULL AND password_hash = $6
         FOR SHARE
       ), stored AS (
         INSERT INTO refresh_tokens (token_hash, session_id, user_id, client_id, expires_at)
         SELECT $1, $2, owner.id, $4, now() + make_interval(secs => $5) FROM owner
         -- sessionTime's rule, decided in the statement: never in the second of an ending
         WHERE floor(owner.db_now) > COALESCE(owner.sessions_not_before, -1)
       )
       SELECT ${USER_COLUMNS}, db_now, sessions_not_before FROM owner`,
      [token.hash, token.sessionId, token.userId, token.clientId, token.ttlSeconds, passwordHash],
    );
    return rows[0] && { user: toUser(rows[0]), time: sessionTime(rows[0]) };
  }

  /**
   * Spends a live token in one statement, so of two concurrent refreshes with the same token
   * exactly one gets the row back. `undefined`: unknown, expired, already spent or revoked.
   */
  async spend(hash: string, tx: Queryable = this.db): Promise<RefreshTokenRecord | undefined> {
    const rows = await tx.query<RefreshTokenRow>(
      `UPDATE refresh_tokens SET spent_at = now()
       WHERE token_hash = $1 AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > now()
       RETURNING ${COLUMNS}`,
      [hash],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async find(hash: string, tx: Queryable = this.db): Promise<RefreshTokenRecord | undefined> {
    const rows = await tx.query<RefreshTokenRow>(
      `SELECT ${COLUMNS} FROM refresh_tokens WHERE token_hash = $1`,
      [hash],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /** Revokes every token of a login session (the refresh-token family). */
  async revokeSession(sessionId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      'UPDATE refresh_tokens SET revoked_at = now() WHERE session_id = $1 AND revoked_at IS NULL',
      [sessionId],
    );
  }

  /** Revokes every refresh token of a user (block). */
  async revokeUser(userId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
    ]);
  }
}

function toRecord(row: RefreshTokenRow): RefreshTokenRecord {
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    clientId: row.client_id,
    expiresAt: new Date(row.expires_at),
    spentAt: row.spent_at === null ? null : new Date(row.spent_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}
