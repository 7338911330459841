import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import {
  type AppliedRevocation,
  JWKS_FETCH_CHANNEL,
  type JwksFetch,
  type JwksFetchResult,
  REVOCATION_APPLIED_CHANNEL,
  REVOCATION_FEED_LOST_CHANNEL,
  type RevocationList,
} from '@relay/auth';

import { onChannel, type Unsubscribe } from './channel-subscription';

const JWKS_RESULTS: readonly JwksFetchResult[] = ['success', 'failure'];

// a revocation's `at` is whole seconds, so a lag reads 0 to 1 s above the truth: buckets past 1 s matter
const LAG_BUCKETS_SECONDS = [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300];

/** JWKS fetches by result. */
export function jwksMetrics(registry: Registry): Unsubscribe {
  const fetches = new Counter({
    name: 'relay_jwks_fetches_total',
    help: "Fetches of the issuer's JWKS, by result (success, failure: the known keys were kept)",
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of JWKS_RESULTS) fetches.labels(result).inc(0);
  return onChannel<JwksFetch>(JWKS_FETCH_CHANNEL, (fetch) => fetches.labels(fetch.result).inc());
}

/**
 * The revocation feed: whether it is in sync now (read from this app's `RevocationList` at each
 * scrape), how often it was lost, and how long revocations took to arrive.
 */
export function revocationMetrics(registry: Registry, revocations: RevocationList | undefined): Unsubscribe {
  if (revocations !== undefined) {
    new Gauge({
      name: 'relay_revocation_feed_synced',
      help: 'Whether the revocation list is replayed and followed (1) or not (0: tokens are refused with 503)',
      registers: [registry],
      collect() {
        this.set(revocations.isSynced() ? 1 : 0);
      },
    });
  }
  const losses = new Counter({
    name: 'relay_revocation_feed_losses_total',
    help: 'Times the revocation feed was lost (disconnect or silent server) and had to be replayed',
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'relay_revocation_feed_lag_seconds',
    help: 'Time from a revocation (its `at`, whole seconds) to this app applying it, for live auth.revoked events',
    buckets: LAG_BUCKETS_SECONDS,
    registers: [registry],
  });
  const stopLosses = onChannel(REVOCATION_FEED_LOST_CHANNEL, () => losses.inc());
  const stopLag = onChannel<AppliedRevocation>(REVOCATION_APPLIED_CHANNEL, (revocation) => {
    // an issuer clock ahead of ours would read negative
    lag.observe(Math.max(0, revocation.appliedAtMs / 1000 - revocation.at));
  });
  return () => {
    stopLosses();
    stopLag();
  };
}
