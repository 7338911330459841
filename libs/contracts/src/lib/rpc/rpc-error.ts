/** The `err` of a NATS reply that failed on purpose (never Nest's "Internal server error"). */
export interface RpcError {
  status: 400 | 401 | 403 | 404 | 409 | 500 | 503;
  message?: string;
  reason?: string;
}

/**
 * Whether `value` is an error reply: an object whose `status` is an HTTP error status (an integer in
 * 400..599). Anything else a peer sends as `err` is not passed on as a status (nor as a metric label).
 */
export function isRpcError(value: unknown): value is RpcError {
  if (typeof value !== 'object' || value === null) return false;
  const { status } = value as { status?: unknown };
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}
