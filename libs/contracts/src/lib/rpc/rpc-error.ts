/** The `err` of a NATS reply that failed on purpose (never Nest's "Internal server error"). */
export interface RpcError {
  status: 400 | 401 | 403 | 404 | 409 | 500 | 503;
  message?: string;
  reason?: string;
}

export function isRpcError(value: unknown): value is RpcError {
  return (
    typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number'
  );
}
