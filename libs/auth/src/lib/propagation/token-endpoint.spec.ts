import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';

import { type IssuerServer, startIssuerServer } from '../../test-support/issuer-server';
import { requestToken } from './token-endpoint';

const CLIENT_ID = 'orders';
const CLIENT_SECRET = 'orders-secret-of-at-least-32-characters';

describe(requestToken.name, () => {
  let issuer: IssuerServer;

  beforeAll(async () => {
    issuer = await startIssuerServer({ [CLIENT_ID]: CLIENT_SECRET });
  });

  afterAll(async () => {
    await issuer.stop();
  });

  const endpoint = (clientSecret = CLIENT_SECRET) => ({
    url: `${issuer.url}/oauth/token`,
    clientId: CLIENT_ID,
    clientSecret,
    timeoutMs: 2000,
  });

  it('gets a token for the service', async () => {
    const token = await requestToken(endpoint(), { grant_type: 'client_credentials' });

    expect(token.accessToken).toEqual(expect.any(String));
  });

  it("answers an exchange refused with invalid_grant as the caller's 401", async () => {
    issuer.refusedSubjects.add('user-refused');
    const subjectToken = issuer.issuer.mintAccessToken({ claims: { sub: 'user-refused' } });

    const outcome = requestToken(endpoint(), {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'inventory',
    });

    await expect(outcome).rejects.toBeInstanceOf(UnauthorizedException);
  });

  // a secret rotated on the issuer and not on this service: the deployment's fault, not the caller's
  // token; as a 401 the caller's client would drop a good token or log its user out
  it('answers its own client refused (invalid_client) as 503, never as a 401', async () => {
    const outcome = requestToken(endpoint('a-secret-the-issuer-no-longer-knows-1234'), {
      grant_type: 'client_credentials',
    });

    await expect(outcome).rejects.toBeInstanceOf(ServiceUnavailableException);
  });

  // a proxy in front of the issuer, or a hostile one, answering 308 elsewhere: the exchange's body
  // holds the caller's access token
  it('follows no redirect: the caller token is posted to the endpoint it was given only', async () => {
    const received: string[] = [];
    const elsewhere = await listen((request, response) => {
      received.push(request.url ?? '');
      response.end();
    });
    const redirecting = await listen((_, response) => {
      response.writeHead(308, { location: `${urlOf(elsewhere)}/steal` }).end();
    });
    try {
      const outcome = requestToken(
        { ...endpoint(), url: `${urlOf(redirecting)}/oauth/token` },
        {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: issuer.issuer.mintAccessToken(),
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience: 'inventory',
        },
      );

      await expect(outcome).rejects.toBeInstanceOf(ServiceUnavailableException);
      expect(received).toEqual([]);
    } finally {
      await Promise.all([close(elsewhere), close(redirecting)]);
    }
  });
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
