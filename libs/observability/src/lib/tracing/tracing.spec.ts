import { randomBytes } from 'node:crypto';

import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-node';

import { DEFAULT_ROOT_SAMPLE_RATIO, defaultSampler } from './tracing';

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
