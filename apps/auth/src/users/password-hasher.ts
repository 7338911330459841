import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

import { Injectable, type OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';

import { Argon2Gate } from './argon2-gate';

/** OWASP Password Storage: Argon2id, m = 19 MiB, t = 2, p = 1 (SECURITY P1). */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

// Argon2 work waiting for a core, per kind; past it a request is answered 503 at once
const MAX_WAITING = 64;
// libuv's default thread pool, where argon2 runs every hash and verification
const DEFAULT_THREAD_POOL_SIZE = 4;

/**
 * How many Argon2 computations may run at once: one per core, and no more than libuv's thread pool
 * runs (`UV_THREADPOOL_SIZE`, 4 by default). A gate wider than the pool would queue the rest there,
 * first come, first served, past the gate's order (verifications before hashes).
 */
export function argon2Concurrency(
  cores = availableParallelism(),
  threadPoolSize = process.env['UV_THREADPOOL_SIZE'],
): number {
  const configured = Number(threadPoolSize);
  const threads =
    threadPoolSize !== undefined && Number.isInteger(configured) && configured > 0
      ? Math.min(configured, 1024) // libuv's own cap
      : DEFAULT_THREAD_POOL_SIZE;
  return Math.max(1, Math.min(cores, threads));
}

/**
 * Hashes and verifies passwords and client secrets with Argon2id (random salt per hash).
 * Input is NFKC-normalised first (NIST 800-63B §5.1.1.2) and never truncated. At most one
 * computation per core runs at once, verifications (logins) before new hashes (registrations).
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash?: Promise<string>;
  private readonly gate = new Argon2Gate(argon2Concurrency(), MAX_WAITING);

  // made at start, so the first login for an unknown email is not slower than the rest
  async onModuleInit(): Promise<void> {
    await this.dummy();
  }

  hash(password: string): Promise<string> {
    return this.gate.run('hash', () => argon2.hash(normalise(password), ARGON2_OPTIONS));
  }

  /** False for a wrong password or an unreadable hash; never throws on bad input. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.gate.run('verify', async () => {
      try {
        return await argon2.verify(hash, normalise(password));
      } catch {
        return false;
      }
    });
  }

  /**
   * Spends the same work as `verify` for an account that does not exist, so a login for an
   * unknown email takes as long as a wrong password (SECURITY P4). Always false.
   */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(await this.dummy(), password);
    return false;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= argon2.hash(randomBytes(32), ARGON2_OPTIONS);
    return this.dummyHash;
  }

  /** Whether a stored hash was made with weaker parameters than today's. */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_OPTIONS);
    } catch {
      return true;
    }
  }
}

function normalise(password: string): string {
  return password.normalize('NFKC');
}
