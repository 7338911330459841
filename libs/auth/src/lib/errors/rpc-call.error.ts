/**
 * A NATS request answered with an error (`{status, reason?, message?}`), other than a 401/403 to the
 * caller's token (a 401/403 to the service's own token is this error's 503).
 */
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

/**
 * A NATS request that never reached a handler (status 503): no service subscribes to its subject
 * ("no responders"), or it failed before it went (its token could not be obtained, the connection not
 * made in time). Nothing was done on its behalf, so nothing needs undoing.
 */
export class RpcNotSentError extends RpcCallError {
  constructor(message: string) {
    super(503, undefined, message);
    this.name = 'RpcNotSentError';
  }
}
