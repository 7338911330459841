/** A NATS request answered with an error (`{status, reason?, message?}`), other than 401/403. */
export class RpcCallError extends Error {
  constructor(
    readonly status: number,
    readonly reason?: string,
    message?: string,
  ) {
    super(message ?? reason ?? `RPC failed with status ${status}`);
    this.name = 'RpcCallError';
  }
}

/** A NATS request got no answer within its timeout. */
export class RpcTimeoutError extends Error {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`No answer on ${subject} within ${timeoutMs} ms`);
    this.name = 'RpcTimeoutError';
  }
}
