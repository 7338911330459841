import { ConflictException, NotFoundException } from '@nestjs/common';

import { InvalidEnvironmentError } from '@relay/config';
import { type Database, openDatabase } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import { PasswordHasher } from './password-hasher';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

describe(UsersService.name, () => {
  let db: Database;
  let users: UsersService;
  const hasher = new PasswordHasher();

  beforeAll(async () => {
    db = await openDatabase({ migrations: AUTH_MIGRATIONS });
    users = new UsersService(new UsersRepository(db), hasher);
  });

  afterAll(async () => {
    await db.close();
  });

  it('registers a customer under its lower-cased email and never stores the password', async () => {
    const user = await users.register('  Grace@Example.COM ', 'grace password');

    expect(user).toMatchObject({ email: 'grace@example.com', roles: ['customer'], blockedAt: null });
    const rows = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      user.id,
    ]);
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0]?.password_hash).not.toContain('grace password');
  });

  it('refuses an email already taken in another case with 409', async () => {
    await users.register('heidi@example.com', 'heidi password');

    await expect(users.register('HEIDI@example.com', 'other password')).rejects.toBeInstanceOf(
      ConflictException,
    );
  });

  const noReset = (): Promise<void> => Promise.reject(new Error('no password reset expected'));

  it('bootstraps the admin once and is idempotent across restarts', async () => {
    expect(await users.ensureAdmin('Root@Example.com', 'root password', noReset)).toBe('created');
    expect(await users.ensureAdmin('root@example.com', 'root password', noReset)).toBe('unchanged');

    const [admin] = await users.list('root@example.com');
    expect(admin?.roles).toEqual(['admin', 'customer']);
    expect(await users.list('root@example.com')).toHaveLength(1);
  });

  // the reset itself (new hash and every session ended) is SessionsService's: sessions.service.spec
  it('hands a changed bootstrap password to the reset, with the hash it replaces', async () => {
    await users.ensureAdmin('ops@example.com', 'first password', noReset);
    const [before] = await users.list('ops@example.com');
    const resets: Array<[string, string, string]> = [];

    const outcome = await users.ensureAdmin('ops@example.com', 'second password', (...reset) => {
      resets.push(reset);
      return Promise.resolve();
    });

    expect(outcome).toBe('updated');
    expect(resets).toEqual([[before?.id, before?.passwordHash, expect.stringMatching(/^\$argon2id\$/)]]);
    await expect(hasher.verify(resets[0]?.[2] ?? '', 'second password')).resolves.toBe(true);
  });

  it('never promotes an existing customer account: one line naming AUTH_ADMIN_EMAIL, nothing changed', async () => {
    const stranger = await users.register('taken@example.com', 'stranger password');

    await expect(users.ensureAdmin('Taken@Example.com', 'admin password', noReset)).rejects.toThrow(
      new InvalidEnvironmentError(
        'Invalid environment: AUTH_ADMIN_EMAIL names an existing account without the admin role; it is never promoted at start (choose an unused address)',
      ),
    );

    const [account] = await users.list('taken@example.com');
    expect(account?.roles).toEqual(stranger.roles);
    await expect(hasher.verify(account?.passwordHash ?? '', 'stranger password')).resolves.toBe(true);
  });

  it('answers 404 for an unknown or non-uuid id', async () => {
    await expect(users.get('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundException);
    await expect(users.get('orders')).rejects.toBeInstanceOf(NotFoundException);
  });
});
