// Called by tools/scripts/demo.mjs, tools/scripts/journey/serve.mjs and the orders-e2e journey spec: the token's journey page.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { assembleHops } from './hops.mjs';
import { receiveExport, TraceStore } from './otlp-receiver.mjs';
import { proxyToRelay } from './relay-proxy.mjs';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

/** The page's files: a fixed list, so no request path ever reaches the file system. */
const STATIC_FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/journey.js': { file: 'journey.js', type: 'text/javascript; charset=utf-8' },
  '/journey.css': { file: 'journey.css', type: 'text/css; charset=utf-8' },
};

/** Everything from this origin, nothing inline, nothing from elsewhere (no CDN). */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const TRACE_PATH = /^\/api\/traces\/([0-9a-fA-F]{32})$/;
const RELAY_PATH = /^\/relay\/(auth|orders|inventory)(\/.*)$/;

/**
 * @typedef {object} JourneyOptions
 * @property {number} [port] where the page and the OTLP receiver listen; 0 (default) picks a free port
 * @property {string} [host] default 127.0.0.1: the page proxies to the apps, so it stays on loopback
 * @property {{auth: string, orders: string, inventory: string}} relayUrls the apps' base URLs
 * @property {number} [maxTraces] traces kept in memory (default 500)
 */

/**
 * @typedef {object} Journey
 * @property {string} url the page, e.g. http://127.0.0.1:3100/
 * @property {string} otlpEndpoint the apps' OTEL_EXPORTER_OTLP_ENDPOINT (they append /v1/traces)
 * @property {TraceStore} store the spans received so far
 * @property {() => Promise<void>} close
 */

/**
 * Starts the token's journey page: one HTTP server that receives the apps' spans (OTLP/HTTP JSON on
 * `POST /v1/traces`), serves the page, assembles a trace's hops (`GET /api/traces/:traceId`) and
 * forwards the page's calls to the apps (`/relay/<service>/...`, same origin: the apps send no CORS
 * headers). The journey is built from the services' own spans, nothing else.
 *
 * @param {JourneyOptions} options
 * @returns {Promise<Journey>}
 */
export async function startJourney({ port = 0, host = '127.0.0.1', relayUrls, maxTraces = 500 }) {
  const store = new TraceStore({ maxTraces });
  const server = createServer((request, response) => {
    route(request, response, store, relayUrls).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'the journey server failed on this request' }));
    });
  });
  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${server.address().port}`;
  return {
    url: `${origin}/`,
    otlpEndpoint: origin,
    store,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

async function route(request, response, store, relayUrls) {
  const { pathname } = new URL(request.url ?? '/', 'http://journey');
  if (pathname === '/v1/traces') {
    if (request.method !== 'POST') return json(response, 405, { error: 'POST OTLP/HTTP JSON here' });
    return receiveExport(request, response, store);
  }
  const relay = RELAY_PATH.exec(pathname);
  if (relay !== null) return proxyToRelay(request, response, relayUrls, relay[1], relay[2]);
  if (request.method !== 'GET') return json(response, 405, { error: 'method not allowed' });
  const trace = TRACE_PATH.exec(pathname);
  if (trace !== null) return journeyOf(response, store, trace[1].toLowerCase());
  if (pathname === '/api/health') return json(response, 200, { status: 'ok', traces: store.size });
  const file = STATIC_FILES[pathname];
  if (file === undefined) return json(response, 404, { error: 'not found' });
  response.writeHead(200, {
    'content-type': file.type,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  });
  response.end(await readFile(join(PUBLIC_DIR, file.file)));
}

// always 200: the page polls a trace before its first span arrives, `spans: 0` says so
function journeyOf(response, store, traceId) {
  const spans = store.spansOf(traceId);
  return json(response, 200, { traceId, spans: spans.length, hops: assembleHops(spans) });
}

function json(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
