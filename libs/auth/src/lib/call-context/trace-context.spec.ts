import { childTraceparent, continueTraceId, randomHexId } from './trace-context';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('trace context ids', () => {
  it('continues a valid incoming trace and starts a new one for invalid or all-zero ids', () => {
    const traceId = 'a'.repeat(32);

    expect(continueTraceId(`00-${traceId}-${'b'.repeat(16)}-01`)).toBe(traceId);
    for (const invalid of [
      undefined,
      'garbage',
      `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
    ]) {
      expect(continueTraceId(invalid)).toMatch(/^[0-9a-f]{32}$/);
      expect(continueTraceId(invalid)).not.toBe(traceId);
    }
  });

  it('hands out distinct W3C-valid ids across pool refills', () => {
    const ids = Array.from({ length: 2000 }, () => childTraceparent(continueTraceId(undefined)));

    for (const id of ids) expect(id).toMatch(TRACEPARENT);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(3, 35))).size).toBe(ids.length);
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
