import { ServiceUnavailableException } from '@nestjs/common';

/** What a piece of Argon2 work is for: checking a credential (login, client authentication) or hashing a new one. */
export type Argon2Work = 'verify' | 'hash';

/**
 * Bounds Argon2id work (19 MiB and tens of ms of CPU each, SECURITY P1) so that unauthenticated
 * floods cannot starve logins: at most `concurrency` run at once, a waiting verification always goes
 * before a waiting hash (a registration flood delays no login), and at most `maxWaiting` of each
 * kind wait; beyond that the call is refused at once with 503 (retry later) instead of queueing.
 */
export class Argon2Gate {
  private running = 0;
  private readonly waiting: Record<Argon2Work, Array<() => void>> = { verify: [], hash: [] };

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(work: Argon2Work, task: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) {
      this.running += 1;
    } else {
      const queue = this.waiting[work];
      if (queue.length >= this.maxWaiting) {
        throw new ServiceUnavailableException('Too many password checks at once; retry in a moment');
      }
      // the slot of a finishing task is handed over as it is: `running` stays counted
      await new Promise<void>((resolve) => queue.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.verify.shift() ?? this.waiting.hash.shift();
      if (next === undefined) this.running -= 1;
      else next();
    }
  }
}
