import { randomUUID } from 'node:crypto';

import { Test, type TestingModule } from '@nestjs/testing';
import { createLocalJWKSet } from 'jose';

import { AccessTokenVerifier, AuthError, AuthModule } from '@relay/auth';
import { createTestIssuer } from '@relay/testing';

import type { TokenIssuer } from '../token-issuer.service';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './grant-types';
import { TokenExchangeGrant } from './token-exchange.grant';

// auth just started: its revocation list has not been replayed yet (NATS not up, or the replay running)
describe(`${TokenExchangeGrant.name} before its revocation list is replayed`, () => {
  const testIssuer = createTestIssuer({
    issuer: 'http://auth.relay.test',
    audience: ['auth', 'orders', 'inventory'],
  });
  let moduleRef: TestingModule;
  let grant: TokenExchangeGrant;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: testIssuer.issuer,
          audience: 'auth',
          // nothing listens there: the list never syncs in this spec
          natsUrl: 'nats://127.0.0.1:1',
          serviceName: `exchange-${randomUUID().slice(0, 8)}`,
          keyResolver: createLocalJWKSet(testIssuer.jwks()),
          revocationOutage: 'last-known',
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    // the exchange stops at the subject token: the issuer's signing is never reached
    const issuer = { resourceAudiences: ['orders', 'inventory'] } as unknown as TokenIssuer;
    grant = new TokenExchangeGrant(issuer, moduleRef.get(AccessTokenVerifier));
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  it('answers 503 (retry later), not invalid_grant: the token may well be good', async () => {
    const outcome = await grant
      .grant(
        { id: 'orders', scopes: [] },
        {
          grant_type: TOKEN_EXCHANGE_GRANT,
          subject_token: testIssuer.mintAccessToken(),
          subject_token_type: ACCESS_TOKEN_TYPE,
          audience: 'inventory',
        },
      )
      .then(
        () => 'granted',
        (error: unknown) => error,
      );

    expect(outcome).toBeInstanceOf(AuthError);
    expect(outcome).toMatchObject({ status: 503 });
  });
});
