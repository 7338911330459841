/** NATS header names carried on every message sent on a caller's behalf (case-sensitive). */
export const MessageHeaders = {
  authorization: 'authorization',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  requestId: 'x-request-id',
} as const;

/** HTTP header for request idempotency on `POST /orders`. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
