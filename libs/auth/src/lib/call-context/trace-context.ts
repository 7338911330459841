import { randomBytes, randomUUID } from 'node:crypto';

// W3C Trace Context §3.2: version 00, 32-hex trace id, 16-hex parent id, 2-hex flags; all-zero ids are invalid.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Trace id of a valid incoming `traceparent`, or a new one. */
export function continueTraceId(traceparent: string | undefined): string {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match && !/^0+$/.test(match[1]) && !/^0+$/.test(match[2])) return match[1];
  return randomBytes(16).toString('hex');
}

/** A `traceparent` for one outgoing hop: same trace, new span id, sampled. */
export function childTraceparent(traceId: string): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

/** The incoming `x-request-id` when it is a sane token, else a new UUID. */
export function continueRequestId(requestId: string | undefined): string {
  return requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : randomUUID();
}
