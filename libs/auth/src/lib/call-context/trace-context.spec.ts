import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';

import { extractParent, injectTraceHeaders, randomHexId, startCallSpan } from './trace-context';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('trace context without an OpenTelemetry SDK', () => {
  it('continues a valid incoming context unchanged, tracestate and sampled flag included', () => {
    for (const flags of ['00', '01']) {
      const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-${flags}`;
      const call = startCallSpan(
        'GET /x',
        SpanKind.SERVER,
        extractParent({ traceparent, tracestate: 'a=1' }),
      );
      const headers: Record<string, string> = {};

      injectTraceHeaders(call, headers);

      expect(headers).toEqual({ traceparent, tracestate: 'a=1' });
    }
  });

  it('starts a new, unsampled trace for a missing, malformed or all-zero parent', () => {
    for (const traceparent of [
      undefined,
      'garbage',
      `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    ]) {
      const call = startCallSpan('x', SpanKind.SERVER, extractParent({ traceparent }));
      const headers: Record<string, string> = {};

      injectTraceHeaders(call, headers);

      expect(headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      expect(headers['traceparent']).not.toContain(TRACE_ID);
    }
  });

  it('hands out distinct W3C-valid ids across pool refills', () => {
    const ids = Array.from(
      { length: 2000 },
      () => trace.getSpan(startCallSpan('x', SpanKind.SERVER, ROOT_CONTEXT))?.spanContext().traceId,
    );

    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('skips all-zero ids drawn from the random source', () => {
    jest.isolateModules(() => {
      const fills: number[] = [];
      jest.doMock('node:crypto', () => ({
        ...jest.requireActual<typeof import('node:crypto')>('node:crypto'),
        // first refill: all zeros (what a broken source, or 2^-128 luck, yields); then real bytes
        randomFillSync: (buffer: Buffer) => {
          fills.push(buffer.length);
          if (fills.length === 1) return buffer.fill(0);
          return jest.requireActual<typeof import('node:crypto')>('node:crypto').randomFillSync(buffer);
        },
      }));
      const isolated = jest.requireActual<{ randomHexId: typeof randomHexId }>('./trace-context');

      const id = isolated.randomHexId(16);

      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(id).not.toMatch(/^0+$/);
      expect(fills.length).toBe(2);
    });
    jest.dontMock('node:crypto');
  });
});
