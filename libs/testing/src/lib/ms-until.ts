/**
 * Polls `check` every 20 ms until it holds; resolves the milliseconds that took, or rejects once
 * `timeoutMs` has passed without it.
 */
export async function msUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}
