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

const MAX_TRACKED_KEYS = 100_000;

/**
 * Failed-login throttle, in memory (per process): sliding windows of failure times. A restart
 * forgets it, and several auth instances each count their own share.
 */
export class LoginAttempts {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: LoginAttemptLimits = DEFAULT_LOGIN_ATTEMPT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a login for this account from this address may be tried; 0 when it may now. */
  retryAfterSeconds(account: string, address: string): number {
    const waits = this.keys(account, address).map(([key, limit]) => this.waitMs(key, limit));
    return Math.ceil(Math.max(0, ...waits) / 1000);
  }

  recordFailure(account: string, address: string): void {
    const now = this.now();
    for (const [key, limit] of this.keys(account, address)) {
      const times = this.live(key, limit, now);
      times.push(now);
      // re-insert so Map order is recency; only the newest maxFailures matter for the window
      this.failures.delete(key);
      this.failures.set(key, times.slice(-limit.maxFailures));
    }
    this.bound(now);
  }

  /** A correct password clears the account's counters; the address keeps its count (stuffing across accounts). */
  recordSuccess(account: string, address: string): void {
    this.failures.delete(accountAndAddressKey(account, address));
    this.failures.delete(`account:${account}`);
  }

  private keys(account: string, address: string): Array<[string, AttemptLimit]> {
    return [
      [accountAndAddressKey(account, address), this.limits.accountAndAddress],
      [`account:${account}`, this.limits.account],
      [`address:${address}`, this.limits.address],
    ];
  }

  private waitMs(key: string, limit: AttemptLimit): number {
    const now = this.now();
    const times = this.live(key, limit, now);
    if (times.length < limit.maxFailures) return 0;
    const oldestCounted = times[times.length - limit.maxFailures] ?? now;
    return oldestCounted + limit.windowMs - now;
  }

  private live(key: string, limit: AttemptLimit, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((time) => time > now - limit.windowMs);
  }

  // bounds memory under a flood of distinct accounts/addresses: drop the least recently added keys
  private bound(now: number): void {
    if (this.failures.size <= MAX_TRACKED_KEYS) return;
    const longest = Math.max(this.limits.account.windowMs, this.limits.address.windowMs, this.limits.accountAndAddress.windowMs);
    for (const [key, times] of this.failures) {
      if ((times[times.length - 1] ?? 0) <= now - longest) this.failures.delete(key);
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED_KEYS) break;
      this.failures.delete(key);
    }
  }
}

function accountAndAddressKey(account: string, address: string): string {
  return `account-address:${account}\n${address}`;
}
