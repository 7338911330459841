import { randomFillSync, randomUUID } from 'node:crypto';

// W3C Trace Context §3.2: version 00, 32-hex trace id, 16-hex parent id, 2-hex flags; all-zero ids are invalid.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ALL_ZEROS = /^0+$/;

// CSPRNG bytes fetched 4 KiB at a time (as node's randomUUID does) instead of a synchronous
// randomBytes() call, ~3 µs, per id; every byte is handed out once.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** Trace id of a valid incoming `traceparent`, or a new one. */
export function continueTraceId(traceparent: string | undefined): string {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match && !ALL_ZEROS.test(match[1]) && !ALL_ZEROS.test(match[2])) return match[1];
  return randomHexId(16);
}

/** A `traceparent` for one outgoing hop: same trace, new span id, sampled. */
export function childTraceparent(traceId: string): string {
  return `00-${traceId}-${randomHexId(8)}-01`;
}

/** The incoming `x-request-id` when it is a sane token, else a new UUID. */
export function continueRequestId(requestId: string | undefined): string {
  return requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : randomUUID();
}

/** `bytes` unpredictable bytes as lowercase hex, never all zeros (an invalid W3C trace or span id). */
export function randomHexId(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const id = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!ALL_ZEROS.test(id)) return id;
  }
}
