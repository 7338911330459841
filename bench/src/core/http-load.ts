import autocannon from 'autocannon';

import type { LoadResult } from './load-result';

/** One autocannon scenario. */
export interface HttpScenario {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Called before every request: headers to add and/or the body to send (e.g. a fresh token). */
  perRequest?: () => { headers?: Record<string, string>; body?: string };
}

/** Runs autocannon against `scenario` for `seconds` with `connections` keep-alive connections. */
export async function runHttpLoad(
  scenario: HttpScenario,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const headers = {
    ...(scenario.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...scenario.headers,
  };
  const perRequest = scenario.perRequest;
  const result = await autocannon({
    url: scenario.url,
    method: scenario.method ?? 'GET',
    headers,
    ...(scenario.body === undefined ? {} : { body: scenario.body }),
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    ...(perRequest === undefined
      ? {}
      : {
          requests: [
            {
              setupRequest: (request) => {
                const changes = perRequest();
                return {
                  ...request,
                  headers: { ...request.headers, ...changes.headers },
                  ...(changes.body === undefined ? {} : { body: changes.body }),
                };
              },
            },
          ],
        }),
  });
  const completed = result['2xx'];
  return {
    rps: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    completed,
  };
}
