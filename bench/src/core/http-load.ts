import autocannon from 'autocannon';

import { type AlternatingResult, isVariantB, PhaseTally } from './alternating';
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
    // autocannon counts timeouts among errors
    failures: result.errors + result.non2xx,
    completed,
  };
}

/** Called as each request of an alternating run starts and as it settles (e.g. to meter CPU per phase). */
export interface AlternatingHttpHooks {
  started?(): void;
  settled?(phase: number, succeeded: boolean): void;
}

/**
 * Runs `a` and `b` (two paths of one server, same method and headers) in alternating phases on the
 * same `connections` connections for `seconds` (see `PhaseTally`): each request takes the path of
 * the phase it starts in.
 */
export async function runAlternatingHttp(
  a: HttpScenario,
  b: HttpScenario,
  connections: number,
  seconds: number,
  hooks: AlternatingHttpHooks = {},
): Promise<AlternatingResult> {
  const [urlA, urlB] = [new URL(a.url), new URL(b.url)];
  const isComparable =
    urlA.origin === urlB.origin &&
    JSON.stringify(a.headers) === JSON.stringify(b.headers) &&
    [a, b].every(
      (scenario) =>
        (scenario.method ?? 'GET') === 'GET' &&
        scenario.body === undefined &&
        scenario.perRequest === undefined,
    );
  if (!isComparable) {
    throw new Error(
      'bench: alternating HTTP scenarios must be body-less GETs to one origin with the same headers',
    );
  }
  const tally = new PhaseTally();
  const paths = [`${urlA.pathname}${urlA.search}`, `${urlB.pathname}${urlB.search}`];
  const phaseOf = new WeakMap<object, number>();
  const run = await autocannon({
    url: urlA.origin,
    method: 'GET',
    headers: { ...a.headers },
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        // one request in flight per connection: the connection's context holds its phase
        setupRequest: (request, context) => {
          hooks.started?.();
          const phase = tally.phaseNow();
          phaseOf.set(context, phase);
          return { ...request, path: paths[isVariantB(phase) ? 1 : 0] };
        },
        onResponse: (status, _body, context) => {
          const phase = phaseOf.get(context);
          if (phase === undefined) return;
          const succeeded = status >= 200 && status < 300;
          tally.settle(phase, succeeded);
          hooks.settled?.(phase, succeeded);
        },
      },
    ],
  });
  const result = tally.result();
  // a connection error or timeout never reaches onResponse (autocannon counts timeouts among errors)
  return { ...result, failures: result.failures + run.errors };
}
