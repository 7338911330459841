import { Inject, Injectable } from '@nestjs/common';

import { ROLES, type Role } from '@relay/contracts';
import { DATABASE, type Database, type Queryable } from '@relay/database';

import type { User } from './user';

/** A `users` row as selected with {@link USER_COLUMNS}. */
export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  roles: string[];
  blocked_at: Date | string | null;
}

/** The columns {@link toUser} reads. */
export const USER_COLUMNS = 'id, email, password_hash, roles, blocked_at';
const COLUMNS = USER_COLUMNS;

/**
 * SQL: what a statement holding the user's row reads to date a token (see {@link sessionTime}): the
 * database's clock, one clock for every replica (two replicas' clocks, a few ms apart, could date a
 * token after an ending of every session that came after it), and the user's last such ending.
 */
export const SESSION_CLOCK_COLUMNS = 'extract(epoch FROM clock_timestamp()) AS db_now, sessions_not_before';

/** The columns {@link SESSION_CLOCK_COLUMNS} names, as read. */
export interface SessionClockRow {
  db_now: string | number;
  sessions_not_before: string | number | null;
}

/**
 * When a token may be issued: `issuedAt`, the database's current second, once it is past the user's
 * last ending of every session; within that ending's second (its not-before refuses tokens dated in
 * it) `retryInMs`, the wait until the next one. Never a date ahead of the clock: an ending dates its
 * not-before by the same clock, so it always covers every token issued before it.
 */
export function sessionTime(row: SessionClockRow): { issuedAt: number } | { retryInMs: number } {
  const now = Number(row.db_now);
  const notBefore = row.sessions_not_before === null ? undefined : Number(row.sessions_not_before);
  const second = Math.floor(now);
  if (notBefore === undefined || second > notBefore) return { issuedAt: second };
  return { retryInMs: Math.ceil((notBefore + 1 - now) * 1000) + 1 };
}

const KNOWN_ROLES: readonly string[] = ROLES;
const LIST_LIMIT = 100;

/** Users table I/O. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Inserts the user; `undefined` when the email is taken. */
  async insert(user: Omit<User, 'blockedAt'>): Promise<User | undefined> {
    const rows = await this.db.query<UserRow>(
      `INSERT INTO users (id, email, password_hash, roles) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [user.id, user.email, user.passwordHash, user.roles],
    );
    return rows[0] && toUser(rows[0]);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows[0] && toUser(rows[0]);
  }

  async findById(id: string, tx: Queryable = this.db): Promise<User | undefined> {
    const rows = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  /**
   * Whether a token of `userId`'s login session `sessionId`, issued at `issuedAt` (epoch seconds), is
   * still good by this database: the user exists and is not blocked, no ending of every session came
   * at or after `issuedAt`, and the session still holds a refresh token no logout has revoked.
   */
  async isSessionCurrent(userId: string, sessionId: string, issuedAt: number): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM users u
        WHERE u.id = $1 AND u.blocked_at IS NULL
          AND (u.sessions_not_before IS NULL OR u.sessions_not_before < $3)
          AND EXISTS (SELECT 1 FROM refresh_tokens r
                       WHERE r.session_id = $2 AND r.user_id = u.id AND r.revoked_at IS NULL)`,
      [userId, sessionId, issuedAt],
    );
    return rows.length > 0;
  }

  /**
   * The user, its row locked until `tx` ends: `share` while tokens are issued for it, `update` while
   * its sessions are ended, so the two never interleave (SECURITY S12).
   */
  async findLocked(id: string, mode: 'share' | 'update', tx: Queryable): Promise<User | undefined> {
    const lock = mode === 'share' ? 'FOR SHARE' : 'FOR UPDATE';
    const rows = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1 ${lock}`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  /** The user's row locked `FOR SHARE` for a refresh, and when its tokens may be dated (see {@link sessionTime}). */
  async lockForSession(
    id: string,
    tx: Queryable,
  ): Promise<{ user: User; time: ReturnType<typeof sessionTime> } | undefined> {
    const rows = await tx.query<UserRow & SessionClockRow>(
      `SELECT ${COLUMNS}, ${SESSION_CLOCK_COLUMNS} FROM users WHERE id = $1 FOR SHARE`,
      [id],
    );
    return rows[0] && { user: toUser(rows[0]), time: sessionTime(rows[0]) };
  }

  /**
   * Ends every session of the user as of now, by the database's clock that dates its tokens (at least
   * the last ending), and answers that not-before (epoch seconds): tokens dated at or before it are
   * refused, every token issued so far among them. Call holding the row `FOR UPDATE`.
   */
  async endSessions(id: string, tx: Queryable): Promise<number> {
    const rows = await tx.query<{ not_before: string | number }>(
      `UPDATE users SET sessions_not_before =
         GREATEST(floor(extract(epoch FROM clock_timestamp()))::bigint, COALESCE(sessions_not_before, 0))
       WHERE id = $1 RETURNING sessions_not_before AS not_before`,
      [id],
    );
    if (rows[0] === undefined) throw new Error(`No user ${id}`);
    return Number(rows[0].not_before);
  }

  /** Users with this (normalised) email, or the oldest accounts when no email is given. */
  async list(email?: string): Promise<User[]> {
    const rows =
      email === undefined
        ? await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY created_at LIMIT ${LIST_LIMIT}`)
        : await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows.map(toUser);
  }

  /**
   * Replaces the password hash if it still is `checkedHash` (the one the current password was checked
   * against): of two changes made with the same old password, only the first one stored goes through.
   * With `unlessBlocked`, also only while the account is not blocked (a user's own change: a block
   * may have come while the password was checked). Whether it did.
   */
  async replacePassword(
    id: string,
    checkedHash: string,
    passwordHash: string,
    tx: Queryable = this.db,
    { unlessBlocked = false }: { unlessBlocked?: boolean } = {},
  ): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE users SET password_hash = $3
       WHERE id = $1 AND password_hash = $2 AND (blocked_at IS NULL OR NOT $4) RETURNING id`,
      [id, checkedHash, passwordHash, unlessBlocked],
    );
    return rows.length > 0;
  }

  /** Clears `blocked_at` if it still is `blockedAt` (a block made meanwhile stays); whether it did. */
  async unblockIfStill(id: string, blockedAt: Date): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE users SET blocked_at = NULL WHERE id = $1 AND blocked_at = $2 RETURNING id',
      [id, blockedAt],
    );
    return rows.length > 0;
  }

  /** Sets or clears `blocked_at`; returns the updated user, `undefined` when the id is unknown. */
  async setBlockedAt(id: string, blockedAt: Date | null, tx: Queryable = this.db): Promise<User | undefined> {
    const rows = await tx.query<UserRow>(
      `UPDATE users SET blocked_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, blockedAt],
    );
    return rows[0] && toUser(rows[0]);
  }
}

/** A selected `users` row as a `User` (roles this version does not know are dropped). */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    roles: row.roles.filter((role): role is Role => KNOWN_ROLES.includes(role)),
    blockedAt: row.blocked_at === null ? null : new Date(row.blocked_at),
  };
}
