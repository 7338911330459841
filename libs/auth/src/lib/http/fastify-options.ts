import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

import { MessageHeaders } from '@relay/contracts';

import { continueRequestId } from '../call-context/trace-context';

/**
 * What {@link answerFrameworkError} uses of Fastify's error, request and reply. Declared here rather
 * than imported from `fastify`, so that an app on Express type-checks this library without it.
 */
interface FrameworkError {
  statusCode?: number;
}
interface FrameworkRequest {
  headers: IncomingHttpHeaders;
}
interface FrameworkReply {
  code(statusCode: number): FrameworkReply;
  header(name: string, value: string): FrameworkReply;
  // Fastify types `send`'s argument by the route's reply schema: `never` lets every reply in
  send: (...payload: never[]) => unknown;
}

/** Fastify server options (`frameworkErrors`, `clientErrorHandler`): see {@link relayFastifyOptions}. */
export interface RelayFastifyOptions {
  frameworkErrors: (error: FrameworkError, request: FrameworkRequest, reply: FrameworkReply) => void;
  clientErrorHandler: (error: Error & { code?: string }, socket: Duplex) => void;
}

/**
 * Fastify server options for an app on `@relay/auth`: `new FastifyAdapter({ ...relayFastifyOptions() })`.
 * Fastify answers a URL it cannot route and a request Node's parser refuses before Nest or any of
 * its filters runs: by default with the URL in the body (query string and all, where an
 * `access_token` may be) and without `x-request-id`. These answers echo nothing of the request and
 * carry a request id. (On Express, `TransportExceptionFilter` takes the query string out of Nest's 404.)
 */
export function relayFastifyOptions(): RelayFastifyOptions {
  return { frameworkErrors: answerFrameworkError, clientErrorHandler: answerClientError };
}

/**
 * A request Node's HTTP parser refuses (headers over 16 KiB, an invalid character in a header, a
 * bad request line, a timeout) never reaches Fastify's routing or hooks; Fastify's own answer lacks
 * `x-request-id` (docs/api.md: every response carries one). The same answer with a new id.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Exceeded maximum allowed HTTP header size']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Client Timeout']
        : [400, 'Client Error'];
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ error: reason, message, statusCode: status });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\n${MessageHeaders.requestId}: ${continueRequestId(undefined)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Fastify answers a URL it cannot route (a bad percent-escape: 400; a path parameter over its length
 * limit: 414) before any hook runs: by default with the URL in the body, query string and all, which
 * may hold a token (docs/api.md: no answer contains one), and without `x-request-id`. This answer
 * echoes nothing of the URL and carries the caller's request id (when valid) or a new one.
 */
function answerFrameworkError(error: FrameworkError, request: FrameworkRequest, reply: FrameworkReply): void {
  const isTooLong = error.statusCode === 414;
  const callerId = request.headers[MessageHeaders.requestId];
  void reply
    .code(isTooLong ? 414 : 400)
    .header(MessageHeaders.requestId, continueRequestId(typeof callerId === 'string' ? callerId : undefined))
    .send({
      statusCode: isTooLong ? 414 : 400,
      error: isTooLong ? 'URI Too Long' : 'Bad Request',
      message: isTooLong ? 'A path segment is too long' : 'The URL is not valid',
    } as never);
}
