import { createHash } from 'node:crypto';

import { HttpException, HttpStatus } from '@nestjs/common';

import { LoginFailuresRepository } from './login-failures.repository';

/** 429 with the seconds to wait (sent as Retry-After). */
export class LoginThrottledException extends HttpException {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many failed logins; retry later',
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/** At most `maxFailures` failed logins per key within `windowMs`. */
export interface AttemptLimit {
  maxFailures: number;
  windowMs: number;
}

/**
 * Limits per account and client address, per account (any address) and per address (any account).
 * `account: undefined` counts no failure per account alone (no row, no check).
 */
export interface LoginAttemptLimits {
  accountAndAddress: AttemptLimit;
  account: AttemptLimit | undefined;
  address: AttemptLimit;
}

const FIFTEEN_MINUTES = 15 * 60 * 1000;

/**
 * SECURITY P5 / NIST 800-63B §5.2.2 (≤ 100 failures per account), per 15 min: 10 tries per
 * account from one address; 50 per account from everywhere (a distributed guess); 200 per address
 * across accounts (credential stuffing, loose enough for users behind one NAT).
 */
export const DEFAULT_LOGIN_ATTEMPT_LIMITS = {
  accountAndAddress: { maxFailures: 10, windowMs: FIFTEEN_MINUTES },
  account: { maxFailures: 50, windowMs: FIFTEEN_MINUTES },
  address: { maxFailures: 200, windowMs: FIFTEEN_MINUTES },
} satisfies LoginAttemptLimits;

/** A login counted as a failure while its password is checked (see `LoginAttempts.begin`). */
export interface LoginAttempt {
  /** Seconds until a login may be tried again; 0 when this one may go on. A throttled attempt is already withdrawn. */
  readonly retryAfterSeconds: number;
  /** The password was wrong (or the account unknown or blocked): the attempt stays counted. */
  failed(): Promise<void>;
  /** The password was right: withdraws the attempt and clears the account's counters. */
  succeeded(): Promise<void>;
  /** No password was checked (the database or the Argon2 gate refused: a 503): withdraws the attempt. */
  abandoned(): Promise<void>;
}

/**
 * Failed-login throttle over auth's database, so every replica counts every failure and a
 * restart forgets nothing: sliding windows over the failure times stored per key.
 */
export class LoginAttempts {
  private readonly longestWindowMs: number;

  // `now` is this process's clock, not the database's now(): Retry-After is reckoned from the
  // clock that stamped the failures, and specs pin it; replicas' clocks are assumed in sync (NTP)
  constructor(
    private readonly failures: LoginFailuresRepository,
    private readonly limits: LoginAttemptLimits = DEFAULT_LOGIN_ATTEMPT_LIMITS,
    private readonly now: () => number = Date.now,
    /**
     * Prefixed to every key, so throttles over the same table never count each other's rows (a login
     * "email" is any string: `register:<ip>` or a client id must not reach another throttle's keys).
     */
    private readonly namespace = '',
  ) {
    this.longestWindowMs = Math.max(
      limits.accountAndAddress.windowMs,
      limits.account?.windowMs ?? 0,
      limits.address.windowMs,
    );
  }

  /**
   * Starts a login: counts it as a failure first, then checks the limits with it counted. Logins
   * arriving together, on any replica, each see the others' rows before deciding, so no more of
   * them go on to the password check than the limits leave (a check before counting would let every
   * one of them through at the limit's edge). A throttled login is withdrawn at once: it never counts.
   */
  async begin(account: string, address: string): Promise<LoginAttempt> {
    const now = this.now();
    const keys = this.keys(account, address);
    const ids = await this.count(keys, now);
    // this login's own row is the newest of each key: one more than the limit allows is the limit;
    // a login that could not be decided (the database failing meanwhile) is withdrawn, never counted
    const retryAfterSeconds = await this.retryAfter(keys, now, 1).catch(async (error: unknown) => {
      await this.failures.delete(ids).catch(() => undefined);
      throw error;
    });
    if (retryAfterSeconds > 0) await this.failures.delete(ids);
    return {
      retryAfterSeconds,
      failed: () => this.prune(now),
      succeeded: () => this.failures.delete(ids, this.accountKeys(account, address)),
      abandoned: () => this.failures.delete(ids),
    };
  }

  /** Seconds until a login for this account from this address may be tried; 0 when it may now. */
  retryAfterSeconds(account: string, address: string): Promise<number> {
    return this.retryAfter(this.keys(account, address), this.now(), 0);
  }

  /** Counts a failed login that did not go through `begin` (an import of failures, a test's setup). */
  async recordFailure(account: string, address: string): Promise<void> {
    const now = this.now();
    const keys = this.keys(account, address);
    await this.count(keys, now);
    await this.prune(now);
  }

  /** One failure at `now` under each key; returns the rows' ids. */
  private count(keys: Array<[string, AttemptLimit]>, now: number): Promise<string[]> {
    return this.failures.insert(
      keys.map(([keyHash]) => keyHash),
      new Date(now),
    );
  }

  // `own`: rows of the login being decided, counted among the failures
  private async retryAfter(keys: Array<[string, AttemptLimit]>, now: number, own: number): Promise<number> {
    const oldestCounted = await this.failures.oldestCounted(
      keys.map(([keyHash, limit]) => ({
        keyHash,
        maxFailures: limit.maxFailures + own,
        since: new Date(now - limit.windowMs),
      })),
    );
    const waits = keys.map(([keyHash, limit]) => {
      const oldest = oldestCounted.get(keyHash);
      return oldest === undefined ? 0 : oldest.getTime() + limit.windowMs - now;
    });
    return Math.ceil(Math.max(0, ...waits) / 1000);
  }

  // Bounds the table: no failure older than every window counts. Nothing newer goes: a key's newest
  // rows include those of logins still being decided, which a throttled login withdraws a moment later.
  private prune(now: number): Promise<void> {
    return this.failures.deleteExpired(new Date(now - this.longestWindowMs));
  }

  private keys(account: string, clientAddress: string): Array<[string, AttemptLimit]> {
    const address = addressBlock(clientAddress);
    const { accountAndAddress, account: accountOnly, address: addressOnly } = this.limits;
    return [
      [accountAndAddressKey(this.namespace, account, address), accountAndAddress],
      ...(accountOnly === undefined
        ? []
        : [[accountKey(this.namespace, account), accountOnly] as [string, AttemptLimit]]),
      [addressKey(this.namespace, address), addressOnly],
    ];
  }

  // the keys a right password clears: the account's, from this address and from everywhere
  private accountKeys(account: string, clientAddress: string): string[] {
    return [
      accountAndAddressKey(this.namespace, account, addressBlock(clientAddress)),
      accountKey(this.namespace, account),
    ];
  }
}

/**
 * The address a throttle counts under: an IPv4 address itself, an IPv6 address's /64 (one host or
 * subscriber holds a whole /64 and could otherwise spread its attempts over 2^64 addresses).
 */
export function addressBlock(address: string): string {
  const ip = address.split('%')[0];
  if (!ip.includes(':')) return ip;
  const mappedIpv4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mappedIpv4) return mappedIpv4[1];
  const [head, tail] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups].slice(0, 4);
  return `${groups.map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}

function accountAndAddressKey(namespace: string, account: string, address: string): string {
  return throttleKey(`${namespace}account-address:${account}\n${address}`);
}

function accountKey(namespace: string, account: string): string {
  return throttleKey(`${namespace}account:${account}`);
}

function addressKey(namespace: string, address: string): string {
  return throttleKey(`${namespace}address:${address}`);
}

// stored as SHA-256, so the table holds no email or IP address in the clear (a guessed one can
// still be tested against it, for as long as its rows live: one window at most)
function throttleKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
