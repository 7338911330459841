/**
 * `promise`, or a rejection once `timeoutMs` has passed without it settling: an `Error` naming `what`,
 * or the error `what` makes.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string | (() => Error),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(typeof what === 'string' ? new Error(`${what} timed out after ${timeoutMs} ms`) : what()),
      timeoutMs,
    );
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}
