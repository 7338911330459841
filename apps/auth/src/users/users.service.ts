import { randomUUID } from 'node:crypto';

import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';

import { InvalidEnvironmentError } from '@relay/config';

import { PasswordHasher } from './password-hasher';
import { ADMIN_ROLES, CUSTOMER_ROLES, normaliseEmail, type User } from './user';
import { UsersRepository } from './users.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What happened to the bootstrapped admin at start. */
export type AdminBootstrapOutcome = 'created' | 'updated' | 'rehashed' | 'unchanged';

/**
 * Puts `newHash` in place of the user's `currentHash` and ends every session of the user, everywhere
 * (SessionsService.replacePasswordEverywhere): a password set from outside is a reset, and whoever
 * held the old one must lose what it gave them (SECURITY S9).
 */
export type PasswordReset = (userId: string, currentHash: string, newHash: string) => Promise<void>;

/** Accounts: registration, lookup and the bootstrapped admin. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Creates a customer; 409 when the email (case-insensitively) is taken. */
  async register(email: string, password: string): Promise<User> {
    // hash first: the insert is the uniqueness check, so there is no read-then-write race
    const passwordHash = await this.hasher.hash(password);
    const user = await this.users.insert({
      id: randomUUID(),
      email: normaliseEmail(email),
      passwordHash,
      roles: CUSTOMER_ROLES,
    });
    if (user === undefined) throw new ConflictException('Email already registered');
    return user;
  }

  /** 404 for an unknown id, including ids that are not UUIDs (service-client subjects). */
  async get(id: string): Promise<User> {
    const user = UUID.test(id) ? await this.users.findById(id) : undefined;
    if (user === undefined) throw new NotFoundException('User not found');
    return user;
  }

  list(email?: string): Promise<User[]> {
    return this.users.list(email === undefined ? undefined : normaliseEmail(email));
  }

  /**
   * Makes sure the configured admin exists with the configured password and the admin role.
   * Idempotent: a restart with the same settings changes nothing; a changed password is applied
   * through `reset`, which ends every session of the admin (the old password may have leaked); the
   * same password under older Argon2 parameters is only rehashed. An existing account without the
   * admin role is never promoted (whoever registered the address first may hold its sessions):
   * `InvalidEnvironmentError`, and nothing changes.
   */
  async ensureAdmin(email: string, password: string, reset: PasswordReset): Promise<AdminBootstrapOutcome> {
    const normalised = normaliseEmail(email);
    const existing = await this.users.findByEmail(normalised);
    if (existing === undefined) {
      const created = await this.users.insert({
        id: randomUUID(),
        email: normalised,
        passwordHash: await this.hasher.hash(password),
        roles: ADMIN_ROLES,
      });
      // another instance created it at the same moment: run once more against its row
      return created === undefined ? this.ensureAdmin(email, password, reset) : 'created';
    }
    const hasAdminRoles = ADMIN_ROLES.every((role) => existing.roles.includes(role));
    if (!hasAdminRoles) {
      throw new InvalidEnvironmentError(
        'Invalid environment: AUTH_ADMIN_EMAIL names an existing account without the admin role; it is never promoted at start (choose an unused address)',
      );
    }
    const isPasswordRight = await this.hasher.verify(existing.passwordHash, password);
    if (isPasswordRight && !this.hasher.needsRehash(existing.passwordHash)) return 'unchanged';
    const newHash = await this.hasher.hash(password);
    if (isPasswordRight) {
      await this.users.replacePassword(existing.id, existing.passwordHash, newHash);
      return 'rehashed';
    }
    await reset(existing.id, existing.passwordHash, newHash);
    return 'updated';
  }
}
