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
 * SQL: the `iat` (epoch seconds) of a token issued now for the user whose row the statement holds
 * locked: the database's clock, one clock for every replica (two replicas' clocks, a few ms apart,
 * could date a token after an ending of every session that came after it), and never at or before the
 * user's last ending of every session, so a session started after one is never refused from birth.
 */
export const SESSION_ISSUED_AT =
  'GREATEST(floor(extract(epoch FROM clock_timestamp()))::bigint, COALESCE(sessions_not_before + 1, 0))';
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
   * The user, its row locked until `tx` ends: `share` while tokens are issued for it, `update` while
   * its sessions are ended, so the two never interleave (SECURITY S12).
   */
  async findLocked(id: string, mode: 'share' | 'update', tx: Queryable): Promise<User | undefined> {
    const lock = mode === 'share' ? 'FOR SHARE' : 'FOR UPDATE';
    const rows = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1 ${lock}`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  /**
   * The user's row locked `FOR SHARE` for a refresh, with the `iat` of the tokens it issues (see
   * {@link SESSION_ISSUED_AT}): read once the lock is held, after any ending of every session before it.
   */
  async lockForSession(id: string, tx: Queryable): Promise<{ user: User; issuedAt: number } | undefined> {
    const rows = await tx.query<UserRow & { issued_at: string | number }>(
      `SELECT ${COLUMNS}, ${SESSION_ISSUED_AT} AS issued_at FROM users WHERE id = $1 FOR SHARE`,
      [id],
    );
    return rows[0] && { user: toUser(rows[0]), issuedAt: Number(rows[0].issued_at) };
  }

  /**
   * Ends every session of the user as of now, by the database's clock (at least the last ending), and
   * answers that not-before (epoch seconds): tokens dated at or before it are refused. Call holding the
   * row `FOR UPDATE`.
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
   * Whether it did.
   */
  async replacePassword(
    id: string,
    checkedHash: string,
    passwordHash: string,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      'UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING id',
      [id, checkedHash, passwordHash],
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
