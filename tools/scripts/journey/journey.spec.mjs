// Called by `nx run tools:test-scripts` (node:test): the journey page's OTLP receiver, hop assembly and server.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import { context, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

import { assembleHops } from './hops.mjs';
import { startJourney } from './index.mjs';
import { spansFromExport, TraceStore } from './otlp-receiver.mjs';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PAGE_SPAN = '00f067aa0ba902b7';
const FINGERPRINT = '0123456789abcdef';
const T0 = 1_750_000_000_000_000_000n;

/** One span as the OTLP/HTTP JSON encoding carries it. */
function otlpSpan({ id, parent, name, kind, startMs, durationMs = 5, attributes = {}, error = false }) {
  const start = T0 + BigInt(Math.round(startMs * 1e6));
  return {
    traceId: TRACE,
    spanId: id.padStart(16, '0'),
    ...(parent === undefined ? {} : { parentSpanId: parent.padStart(16, '0') }),
    name,
    kind,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + BigInt(Math.round(durationMs * 1e6))),
    attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: otlpValue(value) })),
    status: { code: error ? 2 : 0 },
  };
}

function otlpValue(value) {
  if (Array.isArray(value)) return { arrayValue: { values: value.map(otlpValue) } };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return { intValue: value };
  return { stringValue: value };
}

function exportOf(byService) {
  return {
    resourceSpans: Object.entries(byService).map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: '@relay/auth' }, spans }],
    })),
  };
}

const accepted = (transport, audience, extra = {}) => ({
  'relay.transport': transport,
  'enduser.id': 'user-1',
  'relay.token.audience': audience,
  'relay.token.kid': 'key-1',
  'relay.token.fingerprint': FINGERPRINT,
  'relay.token.verdict': 'accepted',
  'relay.token.cache_hit': false,
  'relay.token.client_id': 'relay-web',
  ...extra,
});

const nats = { 'messaging.system': 'nats' };

/**
 * An order as the apps export it (forward mode): orders' HTTP span, its NATS request to inventory,
 * inventory's handling and event, orders consuming it; verification and SQL spans in between.
 * Services report in any order: the event's consumer first here.
 */
const ORDER_EXPORT = exportOf({
  orders: [
    otlpSpan({
      id: 'c1',
      parent: 'b1',
      name: 'inventory.reserved',
      kind: 5,
      startMs: 40,
      attributes: {
        ...nats,
        'relay.request_id': 'req-1',
        'relay.token.verdict': 'accepted',
        'rpc.response.status_code': 200,
      },
    }),
    otlpSpan({
      id: 'c2',
      parent: 'c1',
      name: 'relay.verify_token',
      kind: 1,
      startMs: 40.5,
      attributes: accepted('nats', ['orders', 'inventory'], { 'relay.token.cache_hit': true }),
    }),
    otlpSpan({
      id: 'c3',
      parent: 'c1',
      name: 'UPDATE',
      kind: 3,
      startMs: 41,
      attributes: { 'db.system.name': 'postgresql' },
    }),
    otlpSpan({
      id: 'a1',
      parent: PAGE_SPAN,
      name: 'POST /orders',
      kind: 2,
      startMs: 0,
      durationMs: 50,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/orders',
        'http.response.status_code': 201,
        'relay.request_id': 'req-1',
        'relay.token.verdict': 'accepted',
        'enduser.id': 'user-1',
      },
    }),
    otlpSpan({
      id: 'a2',
      parent: 'a1',
      name: 'relay.verify_token',
      kind: 1,
      startMs: 1,
      attributes: accepted('http', ['orders', 'inventory']),
    }),
    otlpSpan({
      id: 'a3',
      parent: 'a1',
      name: 'INSERT',
      kind: 3,
      startMs: 2,
      attributes: { 'db.system.name': 'postgresql' },
    }),
    otlpSpan({
      id: 'a4',
      parent: 'a1',
      name: 'inventory.reserve',
      kind: 3,
      startMs: 10,
      durationMs: 20,
      attributes: { ...nats, 'rpc.response.status_code': 200 },
    }),
    otlpSpan({
      id: 'a5',
      parent: 'a1',
      name: 'UPDATE',
      kind: 3,
      startMs: 31,
      attributes: { 'db.system.name': 'postgresql' },
    }),
  ],
  inventory: [
    otlpSpan({
      id: 'b1',
      parent: 'b0',
      name: 'inventory.reserved',
      kind: 4,
      startMs: 25,
      attributes: { ...nats, 'rpc.response.status_code': 200 },
    }),
    otlpSpan({
      id: 'b0',
      parent: 'a4',
      name: 'inventory.reserve',
      kind: 2,
      startMs: 12,
      durationMs: 15,
      attributes: {
        ...nats,
        'relay.request_id': 'req-1',
        'relay.token.verdict': 'accepted',
        'rpc.response.status_code': 200,
      },
    }),
    otlpSpan({
      id: 'b2',
      parent: 'b0',
      name: 'relay.verify_token',
      kind: 1,
      startMs: 12.5,
      attributes: accepted('nats', ['orders', 'inventory']),
    }),
    otlpSpan({
      id: 'b3',
      parent: 'b0',
      name: 'INSERT',
      kind: 3,
      startMs: 14,
      attributes: { 'db.system.name': 'postgresql' },
    }),
  ],
});

describe('spansFromExport', () => {
  it('reads ids, kind, service, times and every attribute type of the OTLP/HTTP JSON encoding', () => {
    const spans = spansFromExport(ORDER_EXPORT);
    assert.equal(spans.length, 12);
    const http = spans.find((span) => span.spanId === '00000000000000a1');
    assert.deepEqual(
      { ...http, startMs: undefined },
      {
        traceId: TRACE,
        spanId: '00000000000000a1',
        parentSpanId: PAGE_SPAN,
        name: 'POST /orders',
        kind: 'server',
        service: 'orders',
        startMs: undefined,
        durationMs: 50,
        attributes: {
          'http.request.method': 'POST',
          'http.route': '/orders',
          'http.response.status_code': 201,
          'relay.request_id': 'req-1',
          'relay.token.verdict': 'accepted',
          'enduser.id': 'user-1',
        },
        isError: false,
      },
    );
    assert.equal(http.startMs, Number(T0) / 1e6);
    const verification = spans.find((span) => span.spanId === '00000000000000c2');
    assert.deepEqual(verification.attributes['relay.token.audience'], ['orders', 'inventory']);
    assert.equal(verification.attributes['relay.token.cache_hit'], true);
  });

  it('skips spans without a well-formed trace or span id and survives any shape', () => {
    const good = otlpSpan({ id: '1', name: 'GET /health', kind: 2, startMs: 0 });
    const spans = spansFromExport(
      exportOf({
        auth: [good, { ...good, traceId: 'not-hex' }, { ...good, spanId: '' }, null, 'text'],
      }),
    );
    assert.equal(spans.length, 1);
    for (const junk of [
      undefined,
      null,
      42,
      { resourceSpans: 'x' },
      { resourceSpans: [{ scopeSpans: [{}] }] },
    ]) {
      assert.deepEqual(spansFromExport(junk), []);
    }
  });

  it('reads kinds sent by name and start times sent as {low, high} halves', () => {
    const [span] = spansFromExport(
      exportOf({
        orders: [
          {
            ...otlpSpan({ id: '1', name: 'x', kind: 0, startMs: 0 }),
            kind: 'SPAN_KIND_CONSUMER',
            startTimeUnixNano: { low: 1_000_000, high: 0 },
            endTimeUnixNano: { low: 3_000_000, high: 0 },
          },
        ],
      }),
    );
    assert.equal(span.kind, 'consumer');
    assert.equal(span.startMs, 1);
    assert.equal(span.durationMs, 2);
  });
});

describe('TraceStore', () => {
  const spanIn = (traceId, spanId) => ({ traceId, spanId, startMs: 0 });

  it('keeps a span once however often it is exported', () => {
    const store = new TraceStore();
    store.add([spanIn('t1', 's1'), spanIn('t1', 's1'), spanIn('t1', 's2')]);
    store.add([spanIn('t1', 's1')]);
    assert.equal(store.spansOf('t1').length, 2);
  });

  it('drops the trace updated longest ago past maxTraces, and spans past maxSpansPerTrace', () => {
    const store = new TraceStore({ maxTraces: 2, maxSpansPerTrace: 2 });
    store.add([spanIn('t1', 's1')]);
    store.add([spanIn('t2', 's1')]);
    store.add([spanIn('t1', 's2')]); // t1 is now the most recently updated
    store.add([spanIn('t3', 's1')]);
    assert.equal(store.size, 2);
    assert.deepEqual(store.spansOf('t2'), []);
    assert.equal(store.spansOf('t1').length, 2);
    assert.equal(store.add([spanIn('t1', 's3')]), 0);
    assert.equal(store.spansOf('t1').length, 2);
  });
});

describe('assembleHops', () => {
  const hops = assembleHops(spansFromExport(ORDER_EXPORT));

  it('makes one hop per span crossing a process boundary, in call order, without SQL or verification spans', () => {
    assert.deepEqual(
      hops.map(({ index, from, to, kind, transport, name, status }) => ({
        index,
        from,
        to,
        kind,
        transport,
        name,
        status,
      })),
      [
        {
          index: 1,
          from: 'client',
          to: 'orders',
          kind: 'server',
          transport: 'http',
          name: 'POST /orders',
          status: 201,
        },
        {
          index: 2,
          from: 'orders',
          to: 'inventory',
          kind: 'client',
          transport: 'nats',
          name: 'inventory.reserve',
          status: 200,
        },
        {
          index: 3,
          from: 'orders',
          to: 'inventory',
          kind: 'server',
          transport: 'nats',
          name: 'inventory.reserve',
          status: 200,
        },
        {
          index: 4,
          from: 'inventory',
          to: 'orders',
          kind: 'producer',
          transport: 'nats',
          name: 'inventory.reserved',
          status: 200,
        },
        {
          index: 5,
          from: 'inventory',
          to: 'orders',
          kind: 'consumer',
          transport: 'nats',
          name: 'inventory.reserved',
          status: 200,
        },
      ],
    );
  });

  it("gives each hop the token its receiver verified, the verdict, the cache's answer and the request id", () => {
    for (const hop of hops) {
      assert.equal(hop.verdict, 'accepted', hop.name);
      assert.equal(hop.token.fingerprint, FINGERPRINT, hop.name);
      assert.equal(hop.requestId, 'req-1', hop.name);
      assert.equal(hop.traceId, TRACE);
    }
    assert.deepEqual(hops[0].token, {
      subject: 'user-1',
      audience: ['orders', 'inventory'],
      act: undefined,
      kid: 'key-1',
      fingerprint: FINGERPRINT,
      clientId: 'relay-web',
      verdict: 'accepted',
      cacheHit: false,
      error: undefined,
      verifiedBy: 'orders',
    });
    assert.equal(hops[0].tokenSeenByReceiver, false);
    // a sending hop shows what its receiver verified: the token on the wire
    assert.equal(hops[1].token.verifiedBy, 'inventory');
    assert.equal(hops[1].tokenSeenByReceiver, true);
    assert.equal(hops[3].token.cacheHit, true);
    assert.equal(hops[4].token.cacheHit, true);
  });

  it('counts the SQL statements of each hop and times hops from the first', () => {
    assert.deepEqual(
      hops.map((hop) => hop.sqlStatements),
      [2, 0, 1, 0, 1],
    );
    assert.deepEqual(
      hops.map((hop) => hop.offsetMs),
      [0, 10, 12, 25, 40],
    );
    assert.equal(hops[0].durationMs, 50);
  });

  it('shows an exchanged token (act, another fingerprint) and a refusal where it happened', () => {
    const exchanged = assembleHops(
      spansFromExport(
        exportOf({
          orders: [
            otlpSpan({
              id: 'a1',
              parent: PAGE_SPAN,
              name: 'POST /orders',
              kind: 2,
              startMs: 0,
              attributes: {
                'http.request.method': 'POST',
                'http.response.status_code': 401,
                'relay.token.verdict': 'refused',
                'relay.request_id': 'req-2',
              },
              error: true,
            }),
            otlpSpan({
              id: 'a2',
              parent: 'a1',
              name: 'relay.verify_token',
              kind: 1,
              startMs: 1,
              attributes: {
                'relay.transport': 'http',
                'relay.token.verdict': 'refused',
                'relay.token.error': 'token_revoked',
                'relay.token.fingerprint': FINGERPRINT,
                'relay.token.kid': 'key-1',
              },
              error: true,
            }),
          ],
        }),
      ),
    );
    assert.equal(exchanged.length, 1);
    assert.equal(exchanged[0].verdict, 'refused');
    assert.equal(exchanged[0].status, 401);
    assert.equal(exchanged[0].isError, true);
    assert.deepEqual(
      {
        error: exchanged[0].token.error,
        fingerprint: exchanged[0].token.fingerprint,
        subject: exchanged[0].token.subject,
      },
      { error: 'token_revoked', fingerprint: FINGERPRINT, subject: undefined },
    );

    const onBehalf = assembleHops(
      spansFromExport(
        exportOf({
          inventory: [
            otlpSpan({
              id: 'b0',
              parent: 'a4',
              name: 'inventory.reserve',
              kind: 2,
              startMs: 0,
              attributes: { ...nats, 'relay.token.verdict': 'accepted' },
            }),
            otlpSpan({
              id: 'b1',
              parent: 'b0',
              name: 'relay.verify_token',
              kind: 1,
              startMs: 1,
              attributes: accepted('nats', ['inventory'], {
                'relay.token.act': 'orders-service',
                'relay.token.fingerprint': 'fedcba9876543210',
              }),
            }),
          ],
        }),
      ),
    );
    // orders' span not exported yet: the hop is there, its sender unknown
    assert.equal(onBehalf[0].from, 'client');
    assert.equal(onBehalf[0].token.act, 'orders-service');
    assert.equal(onBehalf[0].token.fingerprint, 'fedcba9876543210');
  });

  it('leaves a sending hop addressed to its subject until the receiver reports', () => {
    const [hop] = assembleHops(
      spansFromExport(
        exportOf({
          orders: [otlpSpan({ id: 'a4', name: 'inventory.reserve', kind: 3, startMs: 0, attributes: nats })],
        }),
      ),
    );
    assert.deepEqual(
      { from: hop.from, to: hop.to, verdict: hop.verdict, token: hop.token },
      { from: 'orders', to: 'inventory.reserve', verdict: 'none', token: undefined },
    );
  });
});

describe('startJourney', () => {
  let journey;
  let upstream;
  const received = [];

  before(async () => {
    // an app standing in for orders and auth: records what the proxy forwards
    upstream = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ method: request.method, url: request.url, headers: request.headers, body });
        response.writeHead(201, {
          'content-type': 'application/json',
          'x-request-id': request.headers['x-request-id'] ?? 'new',
          'set-cookie': 'a=b',
        });
        response.end(JSON.stringify({ status: 'confirmed' }));
      });
    });
    await new Promise((done) => upstream.listen(0, '127.0.0.1', done));
    const app = `http://127.0.0.1:${upstream.address().port}`;
    journey = await startJourney({ relayUrls: { auth: app, orders: app, inventory: app } });
  });

  after(async () => {
    await journey.close();
    await new Promise((done) => upstream.close(done));
  });

  const post = (path, body, headers = { 'content-type': 'application/json' }) =>
    fetch(new URL(path, journey.url), { method: 'POST', headers, body });

  it('receives spans on /v1/traces (JSON or gzip) and answers their hops on /api/traces/:traceId', async () => {
    const half = JSON.stringify(exportOf({ orders: ORDER_EXPORT.resourceSpans[0].scopeSpans[0].spans }));
    assert.equal((await post('/v1/traces', half)).status, 200);
    const rest = gzipSync(
      JSON.stringify(exportOf({ inventory: ORDER_EXPORT.resourceSpans[1].scopeSpans[0].spans })),
    );
    const gzipped = await post('/v1/traces', rest, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(gzipped.status, 200);
    assert.deepEqual(await gzipped.json(), {});

    const answer = await (await fetch(new URL(`/api/traces/${TRACE.toUpperCase()}`, journey.url))).json();
    assert.equal(answer.spans, 12);
    assert.deepEqual(
      answer.hops.map((hop) => `${hop.from}>${hop.to} ${hop.name}`),
      [
        'client>orders POST /orders',
        'orders>inventory inventory.reserve',
        'orders>inventory inventory.reserve',
        'inventory>orders inventory.reserved',
        'inventory>orders inventory.reserved',
      ],
    );
    const unknown = await (await fetch(new URL(`/api/traces/${'0'.repeat(31)}1`, journey.url))).json();
    assert.deepEqual(unknown.hops, []);
  });

  it('refuses protobuf, bodies that are not JSON, and GET on /v1/traces', async () => {
    assert.equal((await post('/v1/traces', 'x', { 'content-type': 'application/x-protobuf' })).status, 415);
    assert.equal((await post('/v1/traces', '{nope')).status, 400);
    assert.equal((await fetch(new URL('/v1/traces', journey.url))).status, 405);
  });

  it("receives the OpenTelemetry SDK's own export", async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'orders' }),
      spanProcessors: [
        new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${journey.otlpEndpoint}/v1/traces` })),
      ],
    });
    const tracer = provider.getTracer('journey-spec');
    const server = tracer.startSpan('POST /orders', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 201,
        'relay.request_id': 'sdk-1',
      },
    });
    const verification = tracer.startSpan(
      'relay.verify_token',
      { kind: SpanKind.INTERNAL, attributes: accepted('http', ['orders']) },
      trace.setSpan(context.active(), server),
    );
    verification.end();
    server.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = server.spanContext().traceId;
    const answer = await (await fetch(new URL(`/api/traces/${traceId}`, journey.url))).json();
    assert.equal(answer.hops.length, 1);
    assert.deepEqual(
      {
        from: answer.hops[0].from,
        verdict: answer.hops[0].verdict,
        fingerprint: answer.hops[0].token.fingerprint,
        audience: answer.hops[0].token.audience,
        requestId: answer.hops[0].requestId,
      },
      {
        from: 'client',
        verdict: 'accepted',
        fingerprint: FINGERPRINT,
        audience: ['orders'],
        requestId: 'sdk-1',
      },
    );
  });

  it('serves the page with a same-origin content security policy, and no other file', async () => {
    const page = await fetch(journey.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/journey.js">/);
    assert.equal((await fetch(new URL('/journey.js', journey.url))).status, 200);
    for (const path of [
      '/index.mjs',
      '/public/index.html',
      '/%2e%2e/index.mjs',
      '/journey.css/../index.mjs',
    ]) {
      assert.equal((await fetch(new URL(path, journey.url))).status, 404, path);
    }
  });

  it("forwards the page's calls to the apps with the trace context, and nothing it does not make", async () => {
    received.length = 0;
    const answer = await post('/relay/orders/orders', '{"items":[]}', {
      'content-type': 'application/json',
      authorization: 'Bearer token-value',
      traceparent: `00-${TRACE}-${PAGE_SPAN}-01`,
      'x-request-id': 'req-9',
      cookie: 'session=1',
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.headers.get('x-request-id'), 'req-9');
    assert.equal(answer.headers.get('set-cookie'), null);
    assert.deepEqual(await answer.json(), { status: 'confirmed' });
    assert.equal(received.length, 1);
    assert.equal(received[0].url, '/orders');
    assert.equal(received[0].body, '{"items":[]}');
    assert.equal(received[0].headers.authorization, 'Bearer token-value');
    assert.equal(received[0].headers.traceparent, `00-${TRACE}-${PAGE_SPAN}-01`);
    assert.equal(received[0].headers['x-request-id'], 'req-9');
    assert.equal(received[0].headers.cookie, undefined);

    for (const [method, path] of [
      ['POST', '/relay/auth/auth/admin/keys/rotate'],
      ['POST', '/relay/orders/orders/../auth/login'],
      ['DELETE', '/relay/orders/orders'],
      ['GET', '/relay/metrics/metrics'],
    ]) {
      const refused = await fetch(new URL(path, journey.url), { method });
      assert.ok([404, 405].includes(refused.status), `${method} ${path} answered ${refused.status}`);
    }
    assert.equal(received.length, 1);
  });

  it('answers 502 when an app does not answer', async () => {
    const lonely = await startJourney({
      relayUrls: {
        auth: 'http://127.0.0.1:9',
        orders: 'http://127.0.0.1:9',
        inventory: 'http://127.0.0.1:9',
      },
    });
    try {
      const answer = await fetch(new URL('/relay/auth/auth/login', lonely.url), {
        method: 'POST',
        body: '{}',
      });
      assert.equal(answer.status, 502);
      assert.doesNotMatch(await answer.text(), /\{\}/);
    } finally {
      await lonely.close();
    }
  });
});
