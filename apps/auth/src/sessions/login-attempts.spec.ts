import { type Database, testDatabaseBackends } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import { addressBlock, LoginAttempts } from './login-attempts';
import { LoginFailuresRepository } from './login-failures.repository';

const limits = {
  accountAndAddress: { maxFailures: 3, windowMs: 60_000 },
  account: { maxFailures: 5, windowMs: 60_000 },
  address: { maxFailures: 5, windowMs: 60_000 },
};

describe.each(testDatabaseBackends(AUTH_MIGRATIONS))(`${LoginAttempts.name} on $name`, ({ open }) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  let now: number;
  let attempts: LoginAttempts;

  // another auth replica (or this one after a restart): its own instance over the same database
  const replica = (): LoginAttempts => new LoginAttempts(new LoginFailuresRepository(db), limits, () => now);
  const storedRows = async (): Promise<number> =>
    Number(
      (await db.query<{ rows: number | string }>('SELECT count(*) AS rows FROM login_failures'))[0]?.rows,
    );

  beforeAll(async () => {
    ({ db, cleanup } = await open());
  });

  afterAll(async () => {
    await cleanup();
  });

  beforeEach(async () => {
    await db.query('DELETE FROM login_failures');
    now = 1_000_000;
    attempts = replica();
  });

  it('allows logins until the account fails maxFailures times from one address', async () => {
    await attempts.recordFailure('a@x', '10.0.0.1');
    await attempts.recordFailure('a@x', '10.0.0.1');
    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);

    await attempts.recordFailure('a@x', '10.0.0.1');

    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(60);
  });

  // a login's "email" is any string: failures under `register:<ip>` or a client id must not lock
  // out that address's registrations or that client (each throttle keys its rows in its own namespace)
  it('never counts one namespace’s failures in another’s, over the same table', async () => {
    const registrations = new LoginAttempts(
      new LoginFailuresRepository(db),
      limits,
      () => now,
      'registration|',
    );
    for (let failure = 0; failure < 6; failure += 1) await attempts.recordFailure('10.0.0.9', '10.0.0.9');

    expect(await attempts.retryAfterSeconds('10.0.0.9', '10.0.0.9')).toBe(60);
    expect(await registrations.retryAfterSeconds('10.0.0.9', '10.0.0.9')).toBe(0);
  });

  // the client-authentication throttle: a limit per client alone would let anyone lock a service out,
  // and a huge one would scan every failure of that client at every authentication
  it('counts nothing per account alone when it has no account limit, and never throttles on it', async () => {
    const perAddressOnly = new LoginAttempts(
      new LoginFailuresRepository(db),
      { ...limits, account: undefined },
      () => now,
    );
    for (let host = 1; host <= 8; host += 1) await perAddressOnly.recordFailure('orders', `10.0.1.${host}`);

    // one row for the client from that address and one for the address, none for the client alone
    expect(await storedRows()).toBe(16);
    expect(await perAddressOnly.retryAfterSeconds('orders', '10.0.1.99')).toBe(0);
  });

  // a database that fails between the count and the check: the login is refused with the error, and
  // ten outages must not throttle a user who never typed a wrong password
  it('withdraws a login it could not decide, counting nothing', async () => {
    const outage = new Error('Connection terminated unexpectedly');
    const failing = new (class extends LoginFailuresRepository {
      override oldestCounted(): Promise<Map<string, Date>> {
        return Promise.reject(outage);
      }
    })(db);
    const attemptsDuringOutage = new LoginAttempts(failing, limits, () => now);

    await expect(attemptsDuringOutage.begin('a@x', '10.0.0.1')).rejects.toBe(outage);

    expect(await storedRows()).toBe(0);
  });

  it('counts every address of one IPv6 /64 as one address', async () => {
    for (let host = 1; host <= 5; host += 1) {
      await attempts.recordFailure(`user-${host}@x`, `2001:db8:1:2::${host}`);
    }

    expect(await attempts.retryAfterSeconds('someone@x', '2001:db8:1:2:ffff::9')).toBe(60);
    expect(await attempts.retryAfterSeconds('someone@x', '2001:db8:1:3::1')).toBe(0);
  });

  it('counts down Retry-After and lets the window slide', async () => {
    for (let i = 0; i < 3; i += 1) await attempts.recordFailure('a@x', '10.0.0.1');
    now += 45_000;
    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(15);

    now += 15_001;

    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);
  });

  it('limits one address trying many accounts', async () => {
    for (let i = 0; i < 5; i += 1) await attempts.recordFailure(`user${i}@x`, '10.0.0.1');

    expect(await attempts.retryAfterSeconds('fresh@x', '10.0.0.1')).toBeGreaterThan(0);
    expect(await attempts.retryAfterSeconds('fresh@x', '10.0.0.2')).toBe(0);
  });

  it('limits one account attacked from many addresses', async () => {
    for (let i = 0; i < 5; i += 1) await attempts.recordFailure('a@x', `10.0.0.${i}`);

    expect(await attempts.retryAfterSeconds('a@x', '10.0.9.9')).toBeGreaterThan(0);
  });

  it('clears the account counters after a successful login', async () => {
    await attempts.recordFailure('a@x', '10.0.0.1');
    await attempts.recordFailure('a@x', '10.0.0.1');
    await (await attempts.begin('a@x', '10.0.0.1')).succeeded();
    await attempts.recordFailure('a@x', '10.0.0.1');
    await attempts.recordFailure('a@x', '10.0.0.1');

    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);
  });

  it('clears the account counter from every address after a success, but not the address counter', async () => {
    for (let i = 1; i <= 4; i += 1) await attempts.recordFailure('a@x', `10.0.0.${i}`);
    for (let i = 0; i < 3; i += 1) await attempts.recordFailure(`user${i}@x`, '10.0.0.1');
    await (await attempts.begin('a@x', '10.0.0.1')).succeeded();

    await attempts.recordFailure('a@x', '10.0.0.5');
    await attempts.recordFailure('user3@x', '10.0.0.1');

    // a@x: its 4 failures cleared, 1 since; 10.0.0.1: its 4 failures kept, 1 since
    expect(await attempts.retryAfterSeconds('a@x', '10.0.9.9')).toBe(0);
    expect(await attempts.retryAfterSeconds('fresh@x', '10.0.0.1')).toBe(60);
  });

  it('holds the limit across two replicas sharing the database', async () => {
    const other = replica();
    await attempts.recordFailure('a@x', '10.0.0.1');
    await other.recordFailure('a@x', '10.0.0.1');
    expect(await other.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);

    await attempts.recordFailure('a@x', '10.0.0.1');

    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(60);
    expect(await other.retryAfterSeconds('a@x', '10.0.0.1')).toBe(60);
  });

  it('counts every one of concurrent failures from two replicas', async () => {
    const other = replica();

    await Promise.all([
      attempts.recordFailure('a@x', '10.0.0.1'),
      other.recordFailure('a@x', '10.0.0.2'),
      attempts.recordFailure('a@x', '10.0.0.3'),
      other.recordFailure('a@x', '10.0.0.4'),
      attempts.recordFailure('a@x', '10.0.0.5'),
    ]);

    expect(await other.retryAfterSeconds('a@x', '10.0.9.9')).toBe(60);
  });

  it('lets no more concurrent logins past the check than the limit leaves, on any replica', async () => {
    const other = replica();
    await attempts.recordFailure('a@x', '10.0.0.1');
    await attempts.recordFailure('a@x', '10.0.0.1');

    const started = await Promise.all(
      Array.from({ length: 6 }, (_, index) => (index % 2 === 0 ? attempts : other).begin('a@x', '10.0.0.1')),
    );

    // the limit (3 from one address) leaves one; logins that saw each other may all be refused
    const passed = started.filter((attempt) => attempt.retryAfterSeconds === 0);
    expect(passed.length).toBeLessThanOrEqual(1);
    await Promise.all(passed.map((attempt) => attempt.failed()));
    // the refused ones withdrawn: 3 keys for each counted failure
    expect(await storedRows()).toBe((2 + passed.length) * 3);
  });

  it('counts a login that goes on to fail, and never a throttled one', async () => {
    const first = await attempts.begin('a@x', '10.0.0.1');
    expect(first.retryAfterSeconds).toBe(0);
    await first.failed();
    await attempts.recordFailure('a@x', '10.0.0.1');
    expect(await storedRows()).toBe(6);
    const third = await attempts.begin('a@x', '10.0.0.1');
    expect(third.retryAfterSeconds).toBe(0);
    await third.failed();

    const throttled = await attempts.begin('a@x', '10.0.0.1');

    expect(throttled.retryAfterSeconds).toBe(60);
    expect(await storedRows()).toBe(9);
  });

  it('withdraws a successful login and clears its account counter', async () => {
    await attempts.recordFailure('a@x', '10.0.0.2');
    const login = await attempts.begin('a@x', '10.0.0.1');

    await login.succeeded();

    // left: the failure from 10.0.0.2 under its address, and under the account from that address
    expect(await storedRows()).toBe(2);
    expect(await attempts.retryAfterSeconds('a@x', '10.0.9.9')).toBe(0);
  });

  it('keeps the counts across a restart', async () => {
    for (let i = 0; i < 3; i += 1) await attempts.recordFailure('a@x', '10.0.0.1');
    now += 20_000;

    const restarted = replica();

    expect(await restarted.retryAfterSeconds('a@x', '10.0.0.1')).toBe(40);
  });

  it('prunes failures older than every window on the next failure', async () => {
    for (let i = 0; i < 3; i += 1) await attempts.recordFailure(`user${i}@x`, `10.0.0.${i}`);
    expect(await storedRows()).toBe(9);
    now += 60_000;

    await attempts.recordFailure('b@x', '10.0.1.1');

    expect(await storedRows()).toBe(3);
  });

  // SECURITY P5: a burst of logins at the limit each count themselves, find themselves throttled and
  // withdraw; a failure pruned meanwhile must not take the real failures with it
  it('keeps every failure while a burst of throttled logins comes and goes', async () => {
    let releaseWithdrawals = (): void => undefined;
    const withdrawalsHeld = new Promise<void>((resolve) => (releaseWithdrawals = resolve));
    let heldWithdrawals = 0;
    class HeldWithdrawals extends LoginFailuresRepository {
      override async delete(ids: readonly string[], keyHashes?: readonly string[]): Promise<void> {
        heldWithdrawals += 1;
        await withdrawalsHeld;
        return super.delete(ids, keyHashes);
      }
    }
    const burstReplica = new LoginAttempts(new HeldWithdrawals(db), limits, () => now);
    await attempts.recordFailure('a@x', '10.0.0.1');
    now += 1_000;
    await attempts.recordFailure('a@x', '10.0.0.1');
    now += 1_000;
    const last = await attempts.begin('a@x', '10.0.0.1');
    expect(last.retryAfterSeconds).toBe(0);
    now += 1_000;
    const burst = Array.from({ length: 6 }, () => burstReplica.begin('a@x', '10.0.0.1'));
    while (heldWithdrawals < burst.length) await new Promise((resolve) => setTimeout(resolve, 5));

    await last.failed();
    releaseWithdrawals();

    expect((await Promise.all(burst)).every((attempt) => attempt.retryAfterSeconds > 0)).toBe(true);
    // the three failures still count: the first leaves the window 60 s after it
    expect(await attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(57);
  });

  it('stores neither the email nor the address, only SHA-256 keys', async () => {
    await attempts.recordFailure('a@x', '10.0.0.1');

    const rows = await db.query<{ key_hash: string }>('SELECT key_hash FROM login_failures');

    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe(addressBlock.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3:8d3::/64'],
    ['2001:0db8:85a3:08d3:ffff:ffff:ffff:ffff', '2001:db8:85a3:8d3::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('counts %s under %s', (address, block) => {
    expect(addressBlock(address)).toBe(block);
  });
});
