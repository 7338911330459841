import type { KV } from 'nats';

import { MAX_ACCESS_TOKEN_TTL_SECONDS, REVOCATION_BUCKET } from '@relay/contracts';

import type { NatsTestClient } from './nats-test-client';

/**
 * Creates the revocation bucket as the issuer does at its start (history 1, TTL the longest token),
 * for specs that run a service binding only (`createRevocationBucket: false`) without the issuer.
 */
export function createRevocationBucket(
  client: NatsTestClient,
  bucket: string = REVOCATION_BUCKET,
): Promise<KV> {
  return client.connection
    .jetstream()
    .views.kv(bucket, { history: 1, ttl: MAX_ACCESS_TOKEN_TTL_SECONDS * 1000 });
}
