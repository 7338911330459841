import { UnauthorizedException } from '@nestjs/common';
import { decodeJwt } from 'jose';

import type { Principal } from '@relay/auth';
import type { RevocationEntry } from '@relay/contracts';
import { type Database, type Queryable, testDatabaseBackends } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import type { RevocationPublisher } from '../admin/revocation/revocation.publisher';
import { SigningKeysRepository } from '../keys/signing-keys.repository';
import { SigningKeysService } from '../keys/signing-keys.service';
import { testConfigService } from '../testing/test-config';
import { type IssuedAccessToken, TokenBornExpiredError, TokenIssuer } from '../tokens/token-issuer.service';
import { USER_CLIENT_ID } from '../tokens/user-scopes';
import { PasswordHasher } from '../users/password-hasher';
import type { User } from '../users/user';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { UserBlockingService } from '../admin/user-blocking.service';
import { LoginAttempts, LoginThrottledException } from './login-attempts';
import { LoginFailuresRepository } from './login-failures.repository';
import { hashRefreshToken } from './refresh-token';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionsService } from './sessions.service';

/** The caller a user's access token names, as the guard would hand it over (the parts the service reads). */
function callerOf(accessToken: string): Principal {
  const claims = decodeJwt(accessToken);
  return { subject: claims.sub, sessionId: claims['sid'], clientId: USER_CLIENT_ID } as Principal;
}

describe.each(testDatabaseBackends(AUTH_MIGRATIONS))('SessionsService on $name', ({ open, name }) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  let sessions: SessionsService;
  // a second auth instance over the same database, with its own LoginAttempts
  let otherReplica: SessionsService;
  let users: UsersService;
  let revokedSessions: string[];
  let notBefores: Map<string, number>;
  let keys: SigningKeysService;
  // another auth instance over the same database (sharing what this process knows of revocations)
  let replica: (refreshTokens?: RefreshTokensRepository, users?: UsersRepository) => SessionsService;

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    const config = testConfigService();
    const hasher = new PasswordHasher();
    const usersRepository = new UsersRepository(db);
    keys = new SigningKeysService(new SigningKeysRepository(db), config);
    await keys.onModuleInit();
    revokedSessions = [];
    notBefores = new Map();
    // the outbox and the bus are RevocationPublisher's (its own spec); here: which sessions end, and
    // the subject not-befores this process knows of
    const revocations = {
      sessionEntry: (id: string): RevocationEntry => ({ kind: 'sid', id, at: 0 }),
      subjectEntry: (id: string, at: number): RevocationEntry => ({ kind: 'sub', id, at }),
      record: () => Promise.resolve(),
      release: (entry: RevocationEntry) => {
        if (entry.kind === 'sid') revokedSessions.push(entry.id);
        if (entry.kind === 'sub') notBefores.set(entry.id, entry.at);
      },
    } as unknown as RevocationPublisher;
    users = new UsersService(usersRepository, hasher);
    replica = (
      refreshTokens = new RefreshTokensRepository(db),
      usersRepo = usersRepository,
    ): SessionsService =>
      new SessionsService(
        usersRepo,
        hasher,
        refreshTokens,
        new TokenIssuer(keys, config),
        revocations,
        new LoginAttempts(new LoginFailuresRepository(db)),
        config,
      );
    sessions = replica();
    otherReplica = replica();
    await users.register('erin@example.com', 'erin password');
  });

  afterAll(async () => {
    await cleanup();
  });

  beforeEach(() => {
    revokedSessions.length = 0;
  });

  it('rotates a refresh token within the same sid and spends the old one', async () => {
    const first = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');

    const second = await sessions.refresh(first.refresh_token);

    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).sid).toBe(decodeJwt(first.access_token).sid);
    const rows = await db.query<{ spent_at: Date | null }>(
      'SELECT spent_at FROM refresh_tokens WHERE token_hash = $1',
      [hashRefreshToken(first.refresh_token)],
    );
    expect(rows[0]?.spent_at).not.toBeNull();
  });

  it('stores only the SHA-256 of a refresh token', async () => {
    const pair = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');

    const rows = await db.query<{ token_hash: string }>('SELECT token_hash FROM refresh_tokens');

    expect(rows.map((row) => row.token_hash)).toContain(hashRefreshToken(pair.refresh_token));
    expect(rows.map((row) => row.token_hash)).not.toContain(pair.refresh_token);
  });

  it('ends the whole session when a spent token is presented again', async () => {
    const first = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');
    const second = await sessions.refresh(first.refresh_token);

    await expect(sessions.refresh(first.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);

    await expect(sessions.refresh(second.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(revokedSessions).toEqual([decodeJwt(first.access_token).sid]);
  });

  it('lets exactly one of several concurrent refreshes with the same token win', async () => {
    const pair = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');

    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => sessions.refresh(pair.refresh_token)),
    );

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(4);
  });

  it('refuses an expired refresh token without treating it as reuse', async () => {
    const pair = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');
    await db.query(
      "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
      [hashRefreshToken(pair.refresh_token)],
    );

    await expect(sessions.refresh(pair.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(revokedSessions).toEqual([]);
  });

  // the rotation commits with its tokens signed, or not at all: a rotation kept whose access token
  // then failed (born expired with ACCESS_TOKEN_TTL=1 across a second, a key unreadable) answered 500
  // with the old token spent, and the client's retry with it was taken for reuse, ending its session
  it('keeps a refresh token whose new access token could not be signed', async () => {
    const signingFails = new (class extends TokenIssuer {
      override issue(): Promise<IssuedAccessToken> {
        return Promise.reject(new TokenBornExpiredError());
      }
    })(keys, testConfigService());
    const failing = new SessionsService(
      new UsersRepository(db),
      new PasswordHasher(),
      new RefreshTokensRepository(db),
      signingFails,
      {} as RevocationPublisher,
      new LoginAttempts(new LoginFailuresRepository(db)),
      testConfigService(),
    );
    const first = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');

    await expect(failing.refresh(first.refresh_token)).rejects.toBeInstanceOf(TokenBornExpiredError);

    const second = await sessions.refresh(first.refresh_token);
    expect(decodeJwt(second.access_token).sid).toBe(decodeJwt(first.access_token).sid);
    expect(revokedSessions).toEqual([]);
  });

  it('refuses an unknown refresh token', async () => {
    await expect(sessions.refresh('A'.repeat(43))).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it("logs out only with a refresh token of the caller's own session", async () => {
    const mine = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');
    const other = await sessions.login('erin@example.com', 'erin password', '127.0.0.1');
    const claims = decodeJwt(mine.access_token);
    const principal = { subject: claims.sub, sessionId: claims['sid'] } as Principal;

    await expect(sessions.logout(principal, other.refresh_token)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    await sessions.logout(principal, mine.refresh_token);

    expect(revokedSessions).toEqual([claims['sid']]);
    await expect(sessions.refresh(mine.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(sessions.refresh(other.refresh_token)).resolves.toBeDefined();
  });

  // another device (another replica) ended every session earlier in this second: its not-before
  // refuses tokens with iat up to this second, so this login's token is dated after it
  it('dates a new session after a not-before of its user from the same second', async () => {
    await users.register('judy@example.com', 'judy password');
    const earlier = await sessions.login('judy@example.com', 'judy password', '127.0.0.1');
    const claims = decodeJwt(earlier.access_token);
    await otherReplica.logoutAll({ subject: claims.sub, clientId: USER_CLIENT_ID } as Principal);
    const notBefore = notBefores.get(String(claims.sub)) ?? Number.NaN;

    const pair = await sessions.login('judy@example.com', 'judy password', '127.0.0.1');
    const refreshed = await sessions.refresh(pair.refresh_token);

    expect(decodeJwt(pair.access_token).iat).toBeGreaterThan(notBefore);
    expect(decodeJwt(refreshed.access_token).iat).toBeGreaterThan(notBefore);
  });

  // SECURITY S9/S12: a login between two endings of every session is covered by the later one, even
  // within one second: no token is dated ahead of the clock that dates the endings
  it('covers a login made between two endings of every session with the later one', async () => {
    const user = await users.register('walt@example.com', 'walt password');
    const first = await sessions.login('walt@example.com', 'walt password', '127.0.0.12');
    const caller = { subject: decodeJwt(first.access_token).sub, clientId: USER_CLIENT_ID } as Principal;
    await otherReplica.logoutAll(caller);

    const between = await sessions.login('walt@example.com', 'walt password', '127.0.0.12');
    const firstEnding = notBefores.get(user.id) ?? Number.NaN;
    await otherReplica.logoutAll(caller);

    expect(Number(decodeJwt(between.access_token).iat)).toBeGreaterThan(firstEnding);
    expect(Number(decodeJwt(between.access_token).iat)).toBeLessThanOrEqual(
      notBefores.get(user.id) ?? Number.NaN,
    );
    await expect(sessions.refresh(between.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  // two changes made with the same current password (two devices, or a thief racing the owner), on two
  // replicas: the first to commit wins; the other is refused as a wrong current password, changing nothing
  it('lets exactly one of two concurrent password changes from the same password win', async () => {
    await users.register('ivan@example.com', 'ivan password');
    const pair = await sessions.login('ivan@example.com', 'ivan password', '127.0.0.1');
    const principal = callerOf(pair.access_token);
    const newPasswords = ['owner new password', 'thief new password'];

    const results = await Promise.allSettled([
      sessions.changePassword(principal, 'ivan password', newPasswords[0], '127.0.0.1'),
      otherReplica.changePassword(principal, 'ivan password', newPasswords[1], '127.0.0.2'),
    ]);

    const won = results.findIndex((result) => result.status === 'fulfilled');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results[1 - won]).toEqual({
      status: 'rejected',
      reason: new UnauthorizedException('Invalid current password'),
    });
    await expect(sessions.login('ivan@example.com', newPasswords[won], '127.0.0.1')).resolves.toBeDefined();
    await expect(
      sessions.login('ivan@example.com', newPasswords[1 - won], '127.0.0.1'),
    ).rejects.toBeInstanceOf(UnauthorizedException);
  });

  // SECURITY S12: a logout-all (or password change) that takes the user's row right after a login's
  // session row committed must cover that login's token: it is not dated past the not-before
  it('covers a login whose session row committed just before a logout-all with the logout-all', async () => {
    const user = await users.register('uma@example.com', 'uma password');
    const first = await sessions.login('uma@example.com', 'uma password', '127.0.0.9');
    const claims = decodeJwt(first.access_token);
    const caller = { subject: claims.sub, sessionId: claims['sid'], clientId: USER_CLIENT_ID } as Principal;
    class EndedRightAfter extends RefreshTokensRepository {
      override async insertForActiveUser(
        ...args: Parameters<RefreshTokensRepository['insertForActiveUser']>
      ): ReturnType<RefreshTokensRepository['insertForActiveUser']> {
        const stored = await super.insertForActiveUser(...args);
        await otherReplica.logoutAll(caller);
        return stored;
      }
    }

    const pair = await replica(new EndedRightAfter(db)).login('uma@example.com', 'uma password', '127.0.0.9');

    const notBefore = notBefores.get(user.id);
    expect(notBefore).toBeDefined();
    expect(Number(decodeJwt(pair.access_token).iat)).toBeLessThanOrEqual(notBefore ?? Number.NaN);
    await expect(sessions.refresh(pair.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  // SECURITY S12, the other order: the logout-all holds the user's row when the login's statement
  // comes, and commits first in the same second. The login's refresh token is stored after it and
  // survives it, so the login's access token must be dated after the not-before too: a pair refused
  // from birth whose refresh token then gives valid tokens would be a session the logout-all missed
  // in all but name. (PGlite runs one statement at a time: this interleaving needs a server.)
  const onServer = name === 'PGlite' ? it.skip : it;
  onServer('dates a login that waited on a logout-all holding the row after that logout-all', async () => {
    const user = await users.register('vera@example.com', 'vera password');
    const first = await sessions.login('vera@example.com', 'vera password', '127.0.0.11');
    const caller = { subject: decodeJwt(first.access_token).sub, clientId: USER_CLIENT_ID } as Principal;
    let loginStatementSent: () => void = () => undefined;
    const loginWaits = new Promise<void>((resolve) => (loginStatementSent = resolve));
    class SlowEnding extends UsersRepository {
      // the logout-all has the row: the login's statement is sent now, and waits for its commit
      override async findLocked(
        id: string,
        mode: 'share' | 'update',
        tx: Queryable,
      ): Promise<User | undefined> {
        const locked = await super.findLocked(id, mode, tx);
        if (mode === 'update') {
          loginStatementSent();
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return locked;
      }
    }
    const ending = replica(undefined, new SlowEnding(db)).logoutAll(caller);
    class AfterTheEnding extends RefreshTokensRepository {
      override async insertForActiveUser(
        ...args: Parameters<RefreshTokensRepository['insertForActiveUser']>
      ): ReturnType<RefreshTokensRepository['insertForActiveUser']> {
        await loginWaits;
        return super.insertForActiveUser(...args);
      }
    }

    const pair = await replica(new AfterTheEnding(db)).login(
      'vera@example.com',
      'vera password',
      '127.0.0.11',
    );
    await ending;

    const notBefore = notBefores.get(user.id) ?? Number.NaN;
    expect(Number(decodeJwt(pair.access_token).iat)).toBeGreaterThan(notBefore);
    await expect(sessions.refresh(first.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  // SECURITY S9: an operator who sets a new AUTH_ADMIN_PASSWORD because the old one leaked must cut
  // off whoever logged in with it: refresh tokens dead, access tokens under a not-before
  it('ends every session of the admin when AUTH_ADMIN_PASSWORD changes', async () => {
    const reset = (userId: string, currentHash: string, newHash: string): Promise<void> =>
      sessions.replacePasswordEverywhere(userId, currentHash, newHash);
    await users.ensureAdmin('chief@example.com', 'leaked admin password', reset);
    const stolen = await sessions.login('chief@example.com', 'leaked admin password', '127.0.0.10');

    expect(await users.ensureAdmin('chief@example.com', 'fresh admin password', reset)).toBe('updated');

    const [admin] = await users.list('chief@example.com');
    await expect(sessions.refresh(stolen.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(Number(decodeJwt(stolen.access_token).iat)).toBeLessThanOrEqual(
      notBefores.get(admin?.id ?? '') ?? NaN,
    );
    await expect(sessions.login('chief@example.com', 'leaked admin password', '127.0.0.10')).rejects.toThrow(
      'Invalid email or password',
    );
    await expect(
      sessions.login('chief@example.com', 'fresh admin password', '127.0.0.10'),
    ).resolves.toBeDefined();
  });

  it('throttles a login on every replica once their failures together reach the limit', async () => {
    await users.register('grace@example.com', 'grace password');
    for (let i = 0; i < 10; i += 1) {
      const replica = i % 2 === 0 ? sessions : otherReplica;
      const failed = replica.login('grace@example.com', 'wrong password', '192.0.2.1');
      await expect(failed).rejects.toBeInstanceOf(UnauthorizedException);
    }

    const rightPassword = sessions.login('grace@example.com', 'grace password', '192.0.2.1');
    const throttled = await rightPassword.catch((error: unknown) => error);
    const elsewhere = await otherReplica.login('grace@example.com', 'grace password', '192.0.2.2');

    expect(throttled).toBeInstanceOf(LoginThrottledException);
    expect((throttled as LoginThrottledException).retryAfterSeconds).toBeGreaterThan(0);
    expect((throttled as LoginThrottledException).retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
    expect(elsewhere.token_type).toBe('Bearer');
  });

  it('does not count a login it could not check (the database failed) against the throttle', async () => {
    await users.register('heidi@example.com', 'heidi password');
    // a real failure of the database on the password check's side: the users table is not there
    await db.query('ALTER TABLE users RENAME TO users_away');
    try {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        await expect(sessions.login('heidi@example.com', 'heidi password', '192.0.2.9')).rejects.toThrow(
          /users/,
        );
      }
    } finally {
      await db.query('ALTER TABLE users_away RENAME TO users');
    }

    const login = await sessions.login('heidi@example.com', 'heidi password', '192.0.2.9');

    expect(login.token_type).toBe('Bearer');
  });

  // SECURITY P4: an unknown email costs the same Argon2id check as a wrong password (counted, not timed)
  it('checks a password once for an unknown email as for a wrong password, with the same answer', async () => {
    const verify = jest.spyOn(PasswordHasher.prototype, 'verify');
    try {
      const unknown = sessions.login('nobody-here@example.com', 'erin password', '127.0.0.8');
      await expect(unknown).rejects.toThrow('Invalid email or password');
      expect(verify).toHaveBeenCalledTimes(1);

      const wrong = sessions.login('erin@example.com', 'not erin password', '127.0.0.8');
      await expect(wrong).rejects.toThrow('Invalid email or password');
      expect(verify).toHaveBeenCalledTimes(2);
      const [[dummyHash], [erinHash]] = verify.mock.calls;
      expect(dummyHash.split('$').slice(0, 4)).toEqual(erinHash.split('$').slice(0, 4));
    } finally {
      verify.mockRestore();
    }
  });

  it('refuses a blocked user with the same error as a wrong password', async () => {
    const user = await users.register('frank@example.com', 'frank password');
    await db.query('UPDATE users SET blocked_at = now() WHERE id = $1', [user.id]);

    const blocked = sessions.login('frank@example.com', 'frank password', '127.0.0.2');

    await expect(blocked).rejects.toThrow('Invalid email or password');
  });

  describe('racing a block (SECURITY S12)', () => {
    let blocking: UserBlockingService;
    let blockedAt: Map<string, number>;
    // what this process knows of blocks: the sessions below start in the process that blocks
    let revocations: RevocationPublisher;

    beforeAll(() => {
      blockedAt = new Map();
      revocations = {
        subjectEntry: (id: string, at: number): RevocationEntry => ({ kind: 'sub', id, at }),
        record: () => Promise.resolve(),
        release: (entry: RevocationEntry) => blockedAt.set(entry.id, entry.at),
      } as unknown as RevocationPublisher;
      blocking = new UserBlockingService(
        new UsersRepository(db),
        new RefreshTokensRepository(db),
        revocations,
      );
    });

    function sessionsWith(
      hasher: PasswordHasher,
      refreshTokens = new RefreshTokensRepository(db),
    ): SessionsService {
      return new SessionsService(
        new UsersRepository(db),
        hasher,
        refreshTokens,
        new TokenIssuer(keys, testConfigService()),
        revocations,
        new LoginAttempts(new LoginFailuresRepository(db)),
        testConfigService(),
      );
    }

    /** Sessions whose password check waits, once started (`checking`), until `releaseCheck()`. */
    function sessionsWithHeldCheck(): {
      slow: SessionsService;
      checking: Promise<void>;
      releaseCheck: () => void;
    } {
      let releaseCheck = (): void => undefined;
      let markChecking = (): void => undefined;
      const checking = new Promise<void>((resolve) => (markChecking = resolve));
      const held = new Promise<void>((resolve) => (releaseCheck = resolve));
      class HeldHasher extends PasswordHasher {
        override async verify(hash: string, password: string): Promise<boolean> {
          markChecking();
          await held;
          return super.verify(hash, password);
        }
      }
      return { slow: sessionsWith(new HeldHasher()), checking, releaseCheck };
    }

    it('refuses a login whose password check the block overtook', async () => {
      const user = await users.register('mallory@example.com', 'mallory password');
      const { slow, checking, releaseCheck } = sessionsWithHeldCheck();

      const login = slow.login('mallory@example.com', 'mallory password', '127.0.0.4');
      await checking;
      await blocking.block(user.id);
      releaseCheck();

      await expect(login).rejects.toThrow('Invalid email or password');
      const live = await db.query('SELECT 1 FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [
        user.id,
      ]);
      expect(live).toHaveLength(0);
    });

    it('refuses a password change whose check the block overtook, and keeps the old password', async () => {
      const user = await users.register('oscar@example.com', 'oscar password');
      const pair = await sessions.login('oscar@example.com', 'oscar password', '127.0.0.7');
      const principal = callerOf(pair.access_token);
      const { slow, checking, releaseCheck } = sessionsWithHeldCheck();

      const change = slow.changePassword(principal, 'oscar password', 'thief new password', '127.0.0.7');
      await checking;
      await blocking.block(user.id);
      releaseCheck();

      await expect(change).rejects.toBeInstanceOf(UnauthorizedException);
      const [row] = await db.query<{ password_hash: string }>(
        'SELECT password_hash FROM users WHERE id = $1',
        [user.id],
      );
      expect(row.password_hash).toBe(user.passwordHash);
    });

    it('never lets a login concurrent with a block survive it', async () => {
      // the password check answers at once, so the session's statement races the block's transaction
      class InstantHasher extends PasswordHasher {
        override verify(): Promise<boolean> {
          return Promise.resolve(true);
        }
      }
      const quick = sessionsWith(new InstantHasher());
      for (let round = 0; round < 5; round += 1) {
        const user = await users.register(`peggy-${round}@example.com`, 'peggy password');

        const [loggedIn] = await Promise.allSettled([
          quick.login(`peggy-${round}@example.com`, 'peggy password', '127.0.0.6'),
          blocking.block(user.id),
        ]);

        if (loggedIn.status === 'fulfilled') {
          // its access token is covered by the block's not-before, its refresh token is dead
          const notBefore = blockedAt.get(user.id) ?? Number.NaN;
          expect(Number(decodeJwt(loggedIn.value.access_token).iat)).toBeLessThanOrEqual(notBefore);
          await expect(sessions.refresh(loggedIn.value.refresh_token)).rejects.toBeInstanceOf(
            UnauthorizedException,
          );
        }
        const live = await db.query(
          'SELECT 1 FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL',
          [user.id],
        );
        expect(live).toHaveLength(0);
      }
    });

    it('covers a login whose session row committed just before the block with the block (its token is not dated past it)', async () => {
      const user = await users.register('trent@example.com', 'trent password');
      // the block lands, and this process hears of it, between the session's statement and its token
      class BlockedRightAfter extends RefreshTokensRepository {
        override async insertForActiveUser(
          ...args: Parameters<RefreshTokensRepository['insertForActiveUser']>
        ): ReturnType<RefreshTokensRepository['insertForActiveUser']> {
          const stored = await super.insertForActiveUser(...args);
          await blocking.block(user.id);
          return stored;
        }
      }

      const pair = await sessionsWith(new PasswordHasher(), new BlockedRightAfter(db)).login(
        'trent@example.com',
        'trent password',
        '127.0.0.7',
      );

      const notBefore = blockedAt.get(user.id);
      expect(notBefore).toBeDefined();
      expect(Number(decodeJwt(pair.access_token).iat)).toBeLessThanOrEqual(notBefore ?? Number.NaN);
      await expect(sessions.refresh(pair.refresh_token)).rejects.toBeInstanceOf(UnauthorizedException);
    });

    it('never lets a refresh concurrent with a block survive it', async () => {
      for (let round = 0; round < 5; round += 1) {
        const user = await users.register(`oscar-${round}@example.com`, 'oscar password');
        const pair = await sessions.login(`oscar-${round}@example.com`, 'oscar password', '127.0.0.5');

        const [refreshed] = await Promise.allSettled([
          sessions.refresh(pair.refresh_token),
          blocking.block(user.id),
        ]);

        const notBefore = blockedAt.get(user.id) ?? Number.NaN;
        if (refreshed.status === 'fulfilled') {
          // its access token is covered by the block's not-before, its refresh token is dead
          expect(Number(decodeJwt(refreshed.value.access_token).iat)).toBeLessThanOrEqual(notBefore);
          await expect(sessions.refresh(refreshed.value.refresh_token)).rejects.toBeInstanceOf(
            UnauthorizedException,
          );
        }
        expect(Number(decodeJwt(pair.access_token).iat)).toBeLessThanOrEqual(notBefore);
      }
    });
  });
});
