import type { FinishedCall, TokenVerdict } from '@relay/auth';

import { loginResult } from './login-metrics';

function finished(name: string, status: number, verdict: TokenVerdict = 'none'): FinishedCall {
  return {
    transport: 'http',
    name,
    status,
    durationMs: 1,
    verdict,
    cacheHit: false,
    requestId: 'request',
    traceId: 'trace',
    spanId: 'span',
  };
}

describe(loginResult.name, () => {
  it.each([
    { call: finished('POST /auth/login', 200), result: 'success' },
    { call: finished('POST /auth/login', 401), result: 'failure' },
    { call: finished('POST /auth/login', 429), result: 'throttled' },
    { call: finished('POST /auth/password', 401, 'accepted'), result: 'failure' },
    { call: finished('POST /auth/password', 429, 'accepted'), result: 'throttled' },
    { call: finished('POST /oauth/token', 401), result: 'failure' },
    { call: finished('POST /oauth/token', 429), result: 'throttled' },
  ])('counts $call.name answered $call.status as $result', ({ call, result }) => {
    expect(loginResult(call)).toBe(result);
  });

  it.each([
    {
      reason: 'a refused bearer token on POST /auth/password',
      call: finished('POST /auth/password', 401, 'refused'),
    },
    { reason: 'a malformed login (400)', call: finished('POST /auth/login', 400) },
    { reason: 'another route', call: finished('POST /auth/refresh', 401) },
    { reason: 'a NATS subject', call: { ...finished('POST /auth/login', 401), transport: 'nats' as const } },
  ])('counts nothing for $reason', ({ call }) => {
    expect(loginResult(call)).toBeUndefined();
  });
});
