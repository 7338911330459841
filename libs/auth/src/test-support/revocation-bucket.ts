import { randomUUID } from 'node:crypto';

import { createRevocationBucket, type NatsTestClient } from '@relay/testing';

/** A unique, throw-away revocation bucket name. */
export function uniqueBucketName(): string {
  return `relay-revocations-test-${randomUUID().slice(0, 8)}`;
}

/** Writes revocation entries (creating the bucket as the issuer would). */
export async function putRevocations(
  client: NatsTestClient,
  bucket: string,
  entries: { key: string; value: object }[],
): Promise<void> {
  const kv = await createRevocationBucket(client.connection, bucket);
  for (const entry of entries) await kv.put(entry.key, JSON.stringify(entry.value));
}

/** Deletes the bucket's stream. */
export async function deleteBucket(client: NatsTestClient, bucket: string): Promise<void> {
  const manager = await client.connection.jetstreamManager();
  await manager.streams.delete(`KV_${bucket}`).catch(() => false);
}
