import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

import { Logger } from '@nestjs/common';

import { context, propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-node';

import { TRACE_FLUSH_TIMEOUT_MS, TracingCloser } from '../observability.module';
import { DEFAULT_ROOT_SAMPLE_RATIO, defaultSampler, startTracing } from './tracing';

const sampledParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
});
const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.NONE,
  isRemote: true,
});

describe('the default sampler', () => {
  const { sampler } = defaultSampler({});
  const decide = (context: typeof ROOT_CONTEXT, traceId: string): SamplingDecision | undefined =>
    sampler?.shouldSample(context, traceId, 'GET /x', SpanKind.SERVER, {}, []).decision;

  it('honours a caller’s flag, sampled or not', () => {
    expect(decide(sampledParent, '4bf92f3577b34da6a3ce929d0e0e4736')).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(unsampledParent, '4bf92f3577b34da6a3ce929d0e0e4736')).toBe(SamplingDecision.NOT_RECORD);
  });

  it(`records about ${DEFAULT_ROOT_SAMPLE_RATIO * 100} % of new traces`, () => {
    let recorded = 0;
    for (let index = 0; index < 10_000; index += 1) {
      const traceId = randomBytes(16).toString('hex');
      if (decide(ROOT_CONTEXT, traceId) === SamplingDecision.RECORD_AND_SAMPLED) recorded += 1;
    }
    expect(recorded / 10_000).toBeGreaterThan(DEFAULT_ROOT_SAMPLE_RATIO / 2);
    expect(recorded / 10_000).toBeLessThan(DEFAULT_ROOT_SAMPLE_RATIO * 2);
  });

  it('leaves the choice to the SDK when OTEL_TRACES_SAMPLER is set', () => {
    expect(defaultSampler({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' })).toEqual({});
  });
});

// a collector that refuses connections, or takes them and never answers, must not fail the shutdown:
// Nest stops running the shutdown hooks after one that rejects (the database would stay open)
describe('closing tracing at shutdown', () => {
  let silent: Server;
  let warn: jest.SpyInstance;

  const held: Socket[] = [];

  beforeAll(async () => {
    // takes connections, reads nothing, answers nothing
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    warn.mockRestore();
    // the SDK each test starts registers itself globally: unregister it for the next one
    trace.disable();
    context.disable();
    propagation.disable();
  });

  async function closeWithCollectorAt(endpoint: string): Promise<number> {
    startTracing('tracing-spec', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' });
    trace.getTracer('tracing-spec').startSpan('a span to export').end();
    const startedAt = Date.now();
    await new TracingCloser().onApplicationShutdown();
    return Date.now() - startedAt;
  }

  it('resolves with one warning when the collector refuses the connection', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });

    await closeWithCollectorAt(`http://127.0.0.1:${closedPort}`);

    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/^Spans not exported at shutdown/);
  });

  it(`resolves within ${TRACE_FLUSH_TIMEOUT_MS} ms when the collector never answers`, async () => {
    const { port } = silent.address() as { port: number };

    const tookMs = await closeWithCollectorAt(`http://127.0.0.1:${port}`);

    expect(tookMs).toBeLessThan(TRACE_FLUSH_TIMEOUT_MS + 1000);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
