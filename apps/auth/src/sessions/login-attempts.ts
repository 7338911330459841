import { createHash } from 'node:crypto';

import { LoginFailuresRepository } from './login-failures.repository';

/** At most `maxFailures` failed logins per key within `windowMs`. */
export interface AttemptLimit {
  maxFailures: number;
  windowMs: number;
}

/** Limits per account and client address, per account (any address) and per address (any account). */
export interface LoginAttemptLimits {
  accountAndAddress: AttemptLimit;
  account: AttemptLimit;
  address: AttemptLimit;
}

const FIFTEEN_MINUTES = 15 * 60 * 1000;

/**
 * SECURITY P5 / NIST 800-63B §5.2.2 (≤ 100 failures per account), per 15 min: 10 tries per
 * account from one address; 50 per account from everywhere (a distributed guess); 200 per address
 * across accounts (credential stuffing, loose enough for users behind one NAT).
 */
export const DEFAULT_LOGIN_ATTEMPT_LIMITS: LoginAttemptLimits = {
  accountAndAddress: { maxFailures: 10, windowMs: FIFTEEN_MINUTES },
  account: { maxFailures: 50, windowMs: FIFTEEN_MINUTES },
  address: { maxFailures: 200, windowMs: FIFTEEN_MINUTES },
};

/**
 * Failed-login throttle over auth's database, so every replica counts every failure and a
 * restart forgets nothing: sliding windows over the failure times stored per key.
 *
 * Check-then-act: logins checked at once, before any of them records its failure, may all pass
 * at the limit's edge (a few extra guesses, as many as arrive together); each failure is its own
 * row, so concurrent failures from any replica are all counted.
 */
export class LoginAttempts {
  private readonly longestWindowMs: number;

  // `now` is this process's clock, not the database's now(): Retry-After is reckoned from the
  // clock that stamped the failures, and specs pin it; replicas' clocks are assumed in sync (NTP)
  constructor(
    private readonly failures: LoginFailuresRepository,
    private readonly limits: LoginAttemptLimits = DEFAULT_LOGIN_ATTEMPT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.longestWindowMs = Math.max(
      limits.accountAndAddress.windowMs,
      limits.account.windowMs,
      limits.address.windowMs,
    );
  }

  /** Seconds until a login for this account from this address may be tried; 0 when it may now. */
  async retryAfterSeconds(account: string, address: string): Promise<number> {
    const now = this.now();
    const keys = this.keys(account, address);
    const oldestCounted = await this.failures.oldestCounted(
      keys.map(([keyHash, limit]) => ({
        keyHash,
        maxFailures: limit.maxFailures,
        since: new Date(now - limit.windowMs),
      })),
    );
    const waits = keys.map(([keyHash, limit]) => {
      const oldest = oldestCounted.get(keyHash);
      return oldest === undefined ? 0 : oldest.getTime() + limit.windowMs - now;
    });
    return Math.ceil(Math.max(0, ...waits) / 1000);
  }

  async recordFailure(account: string, address: string): Promise<void> {
    const now = this.now();
    const keys = this.keys(account, address);
    await this.failures.insert(
      keys.map(([keyHash]) => keyHash),
      new Date(now),
    );
    // bounds the table: only a key's newest maxFailures can count, none older than every window
    await this.failures.keepNewest(
      keys.map(([keyHash, limit]) => ({ keyHash, maxFailures: limit.maxFailures })),
    );
    await this.failures.deleteUpTo(new Date(now - this.longestWindowMs));
  }

  /** A correct password clears the account's counters; the address keeps its count (stuffing across accounts). */
  async recordSuccess(account: string, address: string): Promise<void> {
    await this.failures.deleteKeys([accountAndAddressKey(account, address), accountKey(account)]);
  }

  private keys(account: string, address: string): Array<[string, AttemptLimit]> {
    return [
      [accountAndAddressKey(account, address), this.limits.accountAndAddress],
      [accountKey(account), this.limits.account],
      [addressKey(address), this.limits.address],
    ];
  }
}

function accountAndAddressKey(account: string, address: string): string {
  return throttleKey(`account-address:${account}\n${address}`);
}

function accountKey(account: string): string {
  return throttleKey(`account:${account}`);
}

function addressKey(address: string): string {
  return throttleKey(`address:${address}`);
}

// stored as SHA-256, so the table holds no email or IP address in the clear (a guessed one can
// still be tested against it, for as long as its rows live: one window at most)
function throttleKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
