import { Counter, Histogram, type Registry } from 'prom-client';

import { CALL_FINISHED_CHANNEL, type CallTransport, type FinishedCall, type TokenVerdict } from '@relay/auth';

import { LATENCY_BUCKETS_SECONDS, seconds } from './buckets';
import { onChannel, type Unsubscribe } from './channel-subscription';

const TRANSPORTS: readonly CallTransport[] = ['http', 'nats'];
const CHECKED_VERDICTS: readonly Exclude<TokenVerdict, 'none'>[] = ['accepted', 'refused', 'forbidden'];

/**
 * Token verifications, verifier cache hits and server latencies, from every finished HTTP request and
 * NATS message (`CALL_FINISHED_CHANNEL`). Labels are the route's template or the subject and the
 * status, never an id.
 */
export function callMetrics(registry: Registry): Unsubscribe {
  const verifications = new Counter({
    name: 'relay_token_verifications_total',
    help: 'Calls whose access token was checked, by transport and result (accepted, refused: 401, forbidden: 403)',
    labelNames: ['transport', 'result'],
    registers: [registry],
  });
  const cacheHits = new Counter({
    name: 'relay_token_cache_hits_total',
    help: "Accepted tokens answered from the verifier's cache (no signature check), by transport",
    labelNames: ['transport'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'relay_http_server_duration_seconds',
    help: 'HTTP requests served, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const natsDuration = new Histogram({
    name: 'relay_nats_server_duration_seconds',
    help: 'NATS requests and events handled, by subject and status (200, else the err status)',
    labelNames: ['subject', 'status'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  // every series exists from the start, so rate() and ratios see a 0 rather than nothing
  for (const transport of TRANSPORTS) {
    cacheHits.labels(transport).inc(0);
    for (const result of CHECKED_VERDICTS) verifications.labels(transport, result).inc(0);
  }

  return onChannel<FinishedCall>(CALL_FINISHED_CHANNEL, (call) => {
    if (call.verdict !== 'none') {
      verifications.labels(call.transport, call.verdict).inc();
      if (call.cacheHit && call.verdict === 'accepted') cacheHits.labels(call.transport).inc();
    }
    const status = String(call.status);
    if (call.transport === 'http') {
      const { method, route } = splitHttpName(call.name);
      httpDuration.labels(method, route, status).observe(seconds(call.durationMs));
    } else if (call.transport === 'nats') {
      natsDuration.labels(call.name, status).observe(seconds(call.durationMs));
    }
  });
}

/** `POST /orders/:id` → method and route template; a request that matched no route is named by its method alone. */
export function splitHttpName(name: string): { method: string; route: string } {
  const space = name.indexOf(' ');
  return space < 0
    ? { method: name, route: 'unmatched' }
    : { method: name.slice(0, space), route: name.slice(space + 1) };
}
