import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connect } from 'nats';

import { getFreePort, NatsTestClient } from '@relay/testing';

import { type IssuerServer, startIssuerServer } from '../../test-support/issuer-server';
import { NATS_URL, type ProbeApp, type ProbeView, startProbeApp } from '../../test-support/probe-app';
import { deleteBucket, uniqueBucketName } from '../../test-support/revocation-bucket';
import type { Principal } from '../access-token/access-token';
import type { AuthModuleOptions } from '../auth-module-options';
import { AuthModule } from '../auth.module';
import { CallContext, recordCaller } from '../call-context/call-context';
import { RpcCallError, RpcNotSentError, RpcTimeoutError } from '../errors/rpc-call.error';
import { RelayHttpClient } from '../http/relay-http-client';
import { RelayNatsClient } from '../nats/relay-nats-client';
import { OutgoingAuthorization } from './outgoing-authorization';

const CLIENT_ID = 'orders-service';
const CLIENT_SECRET = 's3cret:with/odd chars';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

describe('propagation modes (forward, exchange, service)', () => {
  const bucket = uniqueBucketName();
  const callerPrefix = `test.${randomUUID().slice(0, 8)}`;
  const calleePrefix = `test.${randomUUID().slice(0, 8)}`;
  let issuerServer: IssuerServer;
  let nats: NatsTestClient;
  let callee: ProbeApp;
  let caller: ProbeApp;
  let clockOffsetMs = 0;

  const base = (): Pick<AuthModuleOptions, 'issuer' | 'natsUrl' | 'revocationBucket'> => ({
    issuer: issuerServer.url,
    natsUrl: NATS_URL,
    revocationBucket: bucket,
  });

  beforeAll(async () => {
    issuerServer = await startIssuerServer({ [CLIENT_ID]: CLIENT_SECRET });
    nats = await NatsTestClient.connect(NATS_URL);
    callee = await startProbeApp(
      { ...base(), audience: 'inventory', serviceName: `callee-${calleePrefix}` },
      calleePrefix,
      { listen: true },
    );
    caller = await startProbeApp(
      {
        ...base(),
        audience: 'orders',
        serviceName: `caller-${callerPrefix}`,
        propagation: 'exchange',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        calleeAudiences: { [`${calleePrefix}.>`]: 'inventory' },
        clock: () => new Date(Date.now() + clockOffsetMs),
      },
      callerPrefix,
      { forwardPrefix: calleePrefix, fetchUrl: () => callee.url ?? '' },
    );
  });

  afterAll(async () => {
    await caller?.close();
    await callee?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
    await issuerServer?.stop();
  });

  beforeEach(() => {
    issuerServer.requests.length = 0;
    issuerServer.expiresIn = 300;
    issuerServer.delayMs = 0;
    clockOffsetMs = 0;
  });

  const userToken = (claims: Record<string, unknown> = {}): string =>
    issuerServer.issuer.mintAccessToken({ claims: { sub: `user-${randomUUID().slice(0, 6)}`, ...claims } });
  const exchanges = (): number =>
    issuerServer.requests.filter((request) => request.params['grant_type'] === EXCHANGE).length;

  it('exchange: sends a token narrowed to the callee audience with act.sub, accepted over real NATS', async () => {
    const token = userToken({ sub: 'user-42' });
    const headers = {
      authorization: `Bearer ${token}`,
      traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
      'x-request-id': 'req-x-1',
    };

    const http = await caller.http('/probe/forward', headers);
    const seen = JSON.parse(http.body) as ProbeView;

    expect(http.status).toBe(200);
    expect(seen).toEqual(
      expect.objectContaining({
        subject: 'user-42',
        actor: CLIENT_ID,
        audience: ['inventory'],
        traceId: TRACE_ID,
        requestId: 'req-x-1',
      }),
    );
    expect(seen.authorization).not.toBe(headers.authorization);
    expect(issuerServer.requests).toEqual([
      {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${encodeURIComponent(CLIENT_SECRET).replace(/%20/g, '+')}`).toString('base64')}`,
        contentType: 'application/x-www-form-urlencoded',
        // the issuer's access line and span join the caller's trace and request
        traceparent: expect.stringMatching(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`)),
        requestId: 'req-x-1',
        params: {
          grant_type: EXCHANGE,
          subject_token: token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience: 'inventory',
        },
      },
    ]);
  });

  it('exchange: one exchange serves two calls with the same token (HTTP then NATS entry)', async () => {
    const headers = { authorization: `Bearer ${userToken()}` };

    const first = JSON.parse((await caller.http('/probe/forward', headers)).body) as ProbeView;
    const second = await nats.request<ProbeView>(`${callerPrefix}.forward`, {}, { headers });

    expect(second.response?.authorization).toBe(first.authorization);
    expect(second.response?.actor).toBe(CLIENT_ID);
    expect(exchanges()).toBe(1);
  });

  it('exchange: exchanges again per token, and once the cached token is within 30 s of expiry', async () => {
    issuerServer.expiresIn = 100;
    const headers = { authorization: `Bearer ${userToken()}` };

    await caller.http('/probe/forward', headers);
    await caller.http('/probe/forward', { authorization: `Bearer ${userToken()}` });
    clockOffsetMs = 69_000;
    await caller.http('/probe/forward', headers);
    clockOffsetMs = 71_000;
    await caller.http('/probe/forward', headers);

    expect(exchanges()).toBe(3);
  });

  it('exchange: a refused exchange fails the call with 401 on HTTP and NATS, never forwarding', async () => {
    issuerServer.refusedSubjects.add('user-refused');
    const headers = { authorization: `Bearer ${userToken({ sub: 'user-refused' })}` };

    const http = await caller.http('/probe/forward', headers);
    const reply = await nats.request(`${callerPrefix}.forward`, {}, { headers });

    expect(http.status).toBe(401);
    expect(http.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(reply.err).toEqual({ status: 401, message: expect.any(String) });
    expect(exchanges()).toBe(2);
  });

  it('exchange: RelayHttpClient.fetch carries the exchanged token to a real HTTP downstream', async () => {
    const http = await caller.http('/probe/fetch', {
      authorization: `Bearer ${userToken({ sub: 'user-http' })}`,
      'x-request-id': 'req-f',
    });
    const { status, body } = JSON.parse(http.body) as { status: number; body: ProbeView };

    expect(status).toBe(200);
    expect(body).toEqual(
      expect.objectContaining({
        subject: 'user-http',
        actor: CLIENT_ID,
        audience: ['inventory'],
        requestId: 'req-f',
      }),
    );
  });

  it('forward (per call): the caller token travels unchanged, with no token request', async () => {
    const token = userToken({ sub: 'user-fwd' });
    const client = caller.app.get(RelayNatsClient);

    const seen = await CallContext.run({ token }, () =>
      client.send<ProbeView>(`${calleePrefix}.echo`, {}, { propagation: 'forward' }),
    );

    expect(seen.authorization).toBe(`Bearer ${token}`);
    expect(seen.actor).toBeUndefined();
    expect(issuerServer.requests).toHaveLength(0);
  });

  it('service (per call, no caller): uses cached client_credentials for the callee audience', async () => {
    const client = caller.app.get(RelayNatsClient);

    const first = await client.send<ProbeView>(`${calleePrefix}.echo`, {}, { propagation: 'service' });
    const second = await client.send<ProbeView>(`${calleePrefix}.echo`, {}, { propagation: 'service' });

    expect(first).toEqual(expect.objectContaining({ subject: CLIENT_ID, audience: ['inventory'] }));
    expect(second.authorization).toBe(first.authorization);
    expect(issuerServer.requests.map((request) => request.params)).toEqual([
      { grant_type: 'client_credentials', audience: 'inventory' },
    ]);
  });

  // the callee's 403 judged the service's own token (no admin role): the caller's client must not read
  // it as its own token lacking rights, nor a 401 as its token being bad
  it("service: the callee refusing the service's own token is the deployment's 503, not the caller's 403", async () => {
    const client = caller.app.get(RelayNatsClient);

    const outcome = CallContext.run({ token: userToken({ sub: 'user-svc', roles: ['admin'] }) }, () =>
      client.send(`${calleePrefix}.admin`, {}, { propagation: 'service' }),
    );

    await expect(outcome).rejects.toBeInstanceOf(RpcCallError);
    await expect(outcome).rejects.toMatchObject({
      status: 503,
      message: expect.stringMatching(/the service's own token was refused \(403: .+\)/),
    });
    // the refused token is not sent again: a scope granted since counts at the next call
    const fetched = issuerServer.requests.length;
    await client.send(`${calleePrefix}.echo`, {}, { propagation: 'service' });
    expect(issuerServer.requests).toHaveLength(fetched + 1);
  });

  describe('RelayHttpClient', () => {
    let downstream: Server;
    let answer: (response: ServerResponse) => void;

    beforeAll(async () => {
      downstream = createServer((_request, response) => answer(response));
      await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      downstream.closeAllConnections();
      await new Promise((resolve) => downstream.close(resolve));
    });

    function httpClient(): { fetch: RelayHttpClient['fetch']; url: string } {
      const options = {
        ...base(),
        audience: 'orders',
        serviceName: `http-${callerPrefix}`,
        propagation: 'service' as const,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        rpcTimeoutMs: 5000,
      };
      const client = new RelayHttpClient(new OutgoingAuthorization(options));
      const { port } = downstream.address() as AddressInfo;
      return { fetch: client.fetch.bind(client), url: `http://127.0.0.1:${port}/` };
    }

    it('drops a service token the downstream refused: the next call fetches a new one', async () => {
      const { fetch, url } = httpClient();
      answer = (response) => response.writeHead(401).end();

      expect((await fetch(url, { audience: 'inventory' })).status).toBe(401);
      answer = (response) => response.writeHead(204).end();
      expect((await fetch(url, { audience: 'inventory' })).status).toBe(204);
      expect((await fetch(url, { audience: 'inventory' })).status).toBe(204);

      expect(issuerServer.requests).toHaveLength(2);
    });

    // undici alone waits 300 s for the headers, and for ever for a body that trickles
    it('gives up on a downstream that does not answer within timeoutMs', async () => {
      const { fetch, url } = httpClient();
      answer = () => undefined;
      const startedAt = Date.now();

      await expect(fetch(url, { audience: 'inventory', timeoutMs: 300 })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(Date.now() - startedAt).toBeLessThan(1500);
    });

    it('counts the token it fetches first within timeoutMs: a slow issuer does not hold the call', async () => {
      const { fetch, url } = httpClient();
      let isCalled = false;
      answer = (response) => {
        isCalled = true;
        response.writeHead(204).end();
      };
      issuerServer.delayMs = 2500;
      const startedAt = Date.now();

      await expect(fetch(url, { audience: 'inventory', timeoutMs: 300 })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(Date.now() - startedAt).toBeLessThan(1500);
      expect(isCalled).toBe(false);
    });
  });

  it('service (module mode, default token endpoint): a startup job authenticates as the service', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          ...base(),
          audience: 'orders',
          serviceName: `job-${callerPrefix}`,
          propagation: 'service',
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    try {
      const seen = await app
        .get(RelayNatsClient)
        .send<ProbeView>(`${calleePrefix}.echo`, {}, { audience: 'inventory' });

      expect(seen).toEqual(expect.objectContaining({ subject: CLIENT_ID, audience: ['inventory'] }));
      expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    } finally {
      await app.close();
    }
  });

  it('refuses to start exchange or service mode without client credentials', () => {
    const options = { ...base(), audience: 'orders', serviceName: 'x' };

    expect(() => new OutgoingAuthorization({ ...options, propagation: 'exchange' })).toThrow(
      /clientId and clientSecret/,
    );
    expect(
      () => new OutgoingAuthorization({ ...options, propagation: 'service', clientId: CLIENT_ID }),
    ).toThrow(/clientSecret/);
    expect(() => new OutgoingAuthorization(options)).not.toThrow();
  });

  /**
   * Sends `subject` with `timeoutMs` in exchange mode while the issuer takes `exchangeMs` to answer
   * (rpcTimeoutMs 5000): the failure, and how long it took.
   */
  async function sendDuringSlowExchange(
    subject: string,
    exchangeMs: number,
    timeoutMs: number,
  ): Promise<{ failure: unknown; tookMs: number }> {
    const options = {
      ...base(),
      audience: 'orders',
      serviceName: `slow-exchange-${randomUUID().slice(0, 8)}`,
      propagation: 'exchange' as const,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      rpcTimeoutMs: 5000,
    };
    const client = new RelayNatsClient(options, new OutgoingAuthorization(options));
    try {
      await client.connection();
      issuerServer.delayMs = exchangeMs;
      const token = userToken();
      const startedAt = Date.now();
      const failure = await CallContext.run({ transport: 'http' }, () => {
        // what the guard records for a verified caller; the exchange reads only its token
        recordCaller(token, { subject: 'user' } as Principal);
        return client
          .send(subject, {}, { timeoutMs, audience: 'inventory' })
          .catch((error: unknown) => error);
      });
      return { failure, tookMs: Date.now() - startedAt };
    } finally {
      await client.onApplicationShutdown();
    }
  }

  // one deadline for the whole call (CONTRACT: orders answers 503 once inventory has not answered
  // within ORDERS_RPC_TIMEOUT_MS): a slow exchange leaves the NATS request only what is left of it
  it('gives up on a call within its timeoutMs in all, a slow token exchange included', async () => {
    const silent = `${calleePrefix}.silent`;
    const responder = await connect({ servers: NATS_URL });
    responder.subscribe(silent, { callback: () => undefined });
    await responder.flush();
    try {
      const { failure, tookMs } = await sendDuringSlowExchange(silent, 700, 1000);

      expect(failure).toBeInstanceOf(RpcTimeoutError);
      expect(exchanges()).toBe(1);
      // 1000 ms in all (1938 before: the exchange's 700, then a full 1000 for NATS)
      expect(tookMs).toBeLessThan(1400);
    } finally {
      await responder.close();
    }
  });

  // the token endpoint's own limit is the module's rpcTimeoutMs: a call given less must not wait for it
  it('gives up on a call within its timeoutMs while the token exchange is still going', async () => {
    const { failure, tookMs } = await sendDuringSlowExchange(`${calleePrefix}.echo`, 2500, 500);

    // nothing went: the caller may treat the call as not made
    expect(failure).toBeInstanceOf(RpcNotSentError);
    expect(tookMs).toBeLessThan(1500);
  });

  it('answers 503 (not 401) when the token endpoint is unreachable', async () => {
    const deadPort = await getFreePort();
    const outgoing = new OutgoingAuthorization({
      ...base(),
      audience: 'orders',
      serviceName: 'x',
      propagation: 'service',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tokenEndpoint: `http://127.0.0.1:${deadPort}/oauth/token`,
    });

    await expect(outgoing.authorization({ audience: 'inventory' })).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
  });
});
