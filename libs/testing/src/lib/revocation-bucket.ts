import type { KV, NatsConnection } from 'nats';

import { REVOCATION_RETENTION_SECONDS, REVOCATION_BUCKET } from '@relay/contracts';

/**
 * Creates (or opens) the revocation bucket as the issuer does at its start (history 1, TTL the
 * longest token), for specs that play the issuer: a service binding only
 * (`createRevocationBucket: false`) waits for it. `checkAPI: false`: the closed bus allows no
 * `$JS.API.INFO`.
 */
export function createRevocationBucket(
  connection: NatsConnection,
  bucket: string = REVOCATION_BUCKET,
): Promise<KV> {
  return connection
    .jetstream({ checkAPI: false })
    .views.kv(bucket, { history: 1, ttl: REVOCATION_RETENTION_SECONDS * 1000 });
}
