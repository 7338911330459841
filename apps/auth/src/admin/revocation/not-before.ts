/** Epoch seconds of `date`, the unit of `iat` and of revocation entries. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Resolves once the epoch second of `at` is over. A subject's not-before entry refuses tokens with
 * `iat <= at`, so a token issued in that same second would be refused too: issue after this.
 */
export async function afterSecondOf(at: Date): Promise<void> {
  const waitMs = (epochSeconds(at) + 1) * 1000 - Date.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
}
