import { randomUUID } from 'node:crypto';

import { connect, type NatsConnection } from 'nats';

import { REVOCATION_RETENTION_SECONDS, type RevocationEntry } from '@relay/contracts';
import { createTestIssuer, type JwksServer, type TestIssuer } from '@relay/testing';

/** Issuer, JWKS endpoint, revocation bucket and tokens shared by the verifier, HTTP and NATS sections. */
export interface TokenWorld {
  issuer: TestIssuer;
  jwks: JwksServer;
  natsUrl: string;
  bucket: string;
  /** The one token of the warm ("repeated") cases. */
  warmToken: string;
  /** Distinct valid tokens for the cold cases. */
  pool: TokenPool;
  /** Distinct valid tokens, none in `pool`, that fill the verifier caches before the rounds. */
  resident: readonly string[];
  close(): Promise<void>;
}

/** Hands out distinct tokens round-robin; a pool larger than the verifier cache always misses it. */
export class TokenPool {
  private index = 0;

  constructor(readonly tokens: readonly string[]) {}

  next(): string {
    const token = this.tokens[this.index];
    this.index = (this.index + 1) % this.tokens.length;
    return token;
  }
}

/** The audience of the bench's target apps (the issuer's default `aud` contains it). */
export const BENCH_AUDIENCE = 'inventory';

/** Mints the tokens, serves the JWKS and preloads `revokedEntries` revocations into a fresh bucket. */
export async function createTokenWorld(
  natsUrl: string,
  poolSize: number,
  residentTokens: number,
  revokedEntries: number,
): Promise<TokenWorld> {
  const issuer = createTestIssuer();
  const jwks = await issuer.serveJwks();
  const bucket = `relay-bench-revocations-${randomUUID().slice(0, 8)}`;
  const connection = await connect({ servers: natsUrl, name: 'relay-bench-setup' });
  try {
    await preloadRevocations(connection, bucket, revokedEntries);
  } finally {
    await connection.drain();
  }
  const tokens = Array.from({ length: poolSize }, () => issuer.mintAccessToken());
  const resident = Array.from({ length: residentTokens }, () => issuer.mintAccessToken());
  return {
    issuer,
    jwks,
    natsUrl,
    bucket,
    warmToken: issuer.mintAccessToken(),
    pool: new TokenPool(tokens),
    resident,
    close: async () => {
      await jwks.stop();
      const cleanup = await connect({ servers: natsUrl, name: 'relay-bench-cleanup' });
      const manager = await cleanup.jetstreamManager();
      await manager.streams.delete(`KV_${bucket}`).catch(() => false);
      await cleanup.drain();
    },
  };
}

/**
 * Creates `bucket` (the options the apps use) on `connection`'s bus and writes `count` revocations into
 * it, one in ten a blocked subject, the rest revoked token ids: none matches a bench token. Without the
 * JetStream API check, which no identity on the closed bus may make.
 */
export async function preloadRevocations(
  connection: NatsConnection,
  bucket: string,
  count: number,
): Promise<void> {
  const kv = await connection
    .jetstream({ checkAPI: false })
    .views.kv(bucket, { history: 1, ttl: REVOCATION_RETENTION_SECONDS * 1000 });
  const at = Math.floor(Date.now() / 1000);
  const writes: Promise<number>[] = [];
  for (let index = 0; index < count; index += 1) {
    const entry: RevocationEntry =
      index % 10 === 0 ? { kind: 'sub', id: `blocked-${index}`, at } : { kind: 'jti', id: randomUUID(), at };
    writes.push(kv.put(`${entry.kind}.${entry.id}`, JSON.stringify(entry)));
  }
  await Promise.all(writes);
}
