// Called by tools/scripts/journey/journey-server.mjs: lets the journey page call the Relay apps from its own origin.
import { readBody } from './otlp-receiver.mjs';

/**
 * The calls the page makes, and nothing else: the journey server must not become an open relay to
 * the apps. `/relay/<service><path>` goes to `<service's URL><path>`.
 */
const ALLOWED = [
  { service: 'auth', method: 'POST', path: /^\/auth\/(register|login|logout)$/ },
  { service: 'orders', method: 'POST', path: /^\/orders$/ },
  { service: 'orders', method: 'GET', path: /^\/orders(\/[A-Za-z0-9-]{1,64})?$/ },
  { service: 'inventory', method: 'GET', path: /^\/inventory\/[A-Za-z0-9._-]{1,64}$/ },
];

/** Request headers passed on: the body's type, the bearer token and the trace context the page chose. */
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'authorization',
  'traceparent',
  'tracestate',
  'x-request-id',
  'idempotency-key',
];

/** Response headers passed back; the rest (connection, date…) is the journey server's own. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'x-request-id', 'www-authenticate', 'retry-after'];

const MAX_BODY_BYTES = 64 * 1024;
const UPSTREAM_TIMEOUT_MS = 30_000;

/**
 * Forwards one allowed call to the app and streams its answer back. Bodies (credentials, tokens)
 * pass through untouched and are never logged; a refused route is 404, an unreachable app 502.
 *
 * @param {Record<string, string>} relayUrls service name → base URL
 */
export async function proxyToRelay(request, response, relayUrls, service, path) {
  const base = relayUrls[service];
  const allowed = ALLOWED.some(
    (rule) => rule.service === service && rule.method === request.method && rule.path.test(path),
  );
  if (base === undefined || !allowed) {
    return send(response, 404, {
      error: `the journey page does not call ${request.method} ${path} on ${service}`,
    });
  }
  const headers = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  let body;
  try {
    body = request.method === 'GET' ? undefined : await readBody(request, MAX_BODY_BYTES);
  } catch {
    return send(response, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` });
  }
  let upstream;
  try {
    upstream = await fetch(new URL(path, base), {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch (error) {
    const reason = error instanceof Error ? (error.cause?.code ?? error.name) : 'error';
    return send(response, 502, { error: `${service} did not answer (${reason})` });
  }
  const answerHeaders = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) answerHeaders[name] = value;
  }
  response.writeHead(upstream.status, { ...answerHeaders, 'cache-control': 'no-store' });
  response.end(Buffer.from(await upstream.arrayBuffer()));
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
