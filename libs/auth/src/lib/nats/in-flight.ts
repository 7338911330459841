/** A count of calls under way, and a promise for the moment it is zero. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  /** Runs `work`, counting it until it returns or, when it returns a promise, until that settles. */
  track<T>(work: () => T): T {
    this.count += 1;
    let result: T;
    try {
      result = work();
    } catch (error) {
      this.release();
      throw error;
    }
    if (!isPromiseLike(result)) {
      this.release();
      return result;
    }
    return Promise.resolve(result).finally(() => this.release()) as T;
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    this.count -= 1;
    if (this.count > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
