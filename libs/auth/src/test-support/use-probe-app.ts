import { randomUUID } from 'node:crypto';

import { createTestIssuer, type JwksServer, NatsTestClient } from '@relay/testing';

import type { HttpAdapterName } from './http-adapters';
import { NATS_URL, type ProbeApp, startProbeApp } from './probe-app';
import { deleteBucket, uniqueBucketName } from './revocation-bucket';

/** What {@link useProbeApp} gives a spec: getters, valid once its `beforeAll` has run. */
export interface UsedProbeApp {
  probe: () => ProbeApp;
  nats: () => NatsTestClient;
  /** A valid access token of the probe's issuer. */
  token: (claims?: Record<string, unknown>) => string;
  bearer: (claims?: Record<string, unknown>) => { authorization: string };
}

/**
 * A probe app on `adapter` for the enclosing `describe` (started in `beforeAll`, stopped in
 * `afterAll`), with its own issuer and JWKS endpoint, revocation bucket and NATS prefix, and a NATS
 * test client. `name` prefixes its service name.
 */
export function useProbeApp(adapter: HttpAdapterName, name: string): UsedProbeApp {
  const issuer = createTestIssuer();
  const bucket = uniqueBucketName();
  const prefix = `${name}.${randomUUID().slice(0, 8)}`;
  let jwks: JwksServer;
  let probe: ProbeApp;
  let nats: NatsTestClient;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
    probe = await startProbeApp(
      {
        issuer: issuer.issuer,
        audience: 'orders',
        jwksUri: jwks.url,
        natsUrl: NATS_URL,
        serviceName: `${name}-${adapter}-${prefix}`,
        revocationBucket: bucket,
      },
      prefix,
      { listen: true, adapter },
    );
  });

  afterAll(async () => {
    await probe?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
    await jwks?.stop();
  });

  const token = (claims: Record<string, unknown> = {}): string => issuer.mintAccessToken({ claims });
  return {
    probe: () => probe,
    nats: () => nats,
    token,
    bearer: (claims) => ({ authorization: `Bearer ${token(claims)}` }),
  };
}
