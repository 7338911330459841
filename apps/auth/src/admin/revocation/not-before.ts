/** Epoch seconds of `date`, the unit of `iat` and of revocation entries. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Resolves once the epoch second of `at` is over. A subject's not-before entry refuses tokens with
 * `iat <= at`, so a token issued in that same second would be refused too: issue after this.
 * A timer is due by the event loop's monotonic clock in whole milliseconds and can fire while the
 * wall clock that dates tokens is still in the old second, so the clock is read again after each wait.
 */
export async function afterSecondOf(at: Date): Promise<void> {
  const nextSecondMs = (epochSeconds(at) + 1) * 1000;
  for (let waitMs = nextSecondMs - Date.now(); waitMs > 0; waitMs = nextSecondMs - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
