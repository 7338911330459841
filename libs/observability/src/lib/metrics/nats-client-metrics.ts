import { Histogram, type Registry } from 'prom-client';

import { type FinishedNatsCall, NATS_CALL_FINISHED_CHANNEL } from '@relay/auth';

import { LATENCY_BUCKETS_SECONDS, seconds } from './buckets';
import { onChannel, type Unsubscribe } from './channel-subscription';

/** Latency of this app's outgoing NATS requests and events (`RelayNatsClient`), by subject and status. */
export function natsClientMetrics(registry: Registry): Unsubscribe {
  const duration = new Histogram({
    name: 'relay_nats_client_duration_seconds',
    help: 'Outgoing NATS requests and events, by subject and status (200, the err status, 504 on timeout)',
    labelNames: ['subject', 'status'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  return onChannel<FinishedNatsCall>(NATS_CALL_FINISHED_CHANNEL, (call) => {
    duration.labels(call.subject, String(call.status)).observe(seconds(call.durationMs));
  });
}
