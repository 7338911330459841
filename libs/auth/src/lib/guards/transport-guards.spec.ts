import { UnauthorizedException } from '@nestjs/common';

import { sendRawRequest } from '@relay/testing';

import { HTTP_ADAPTERS } from '../../test-support/http-adapters';
import type { ProbeView } from '../../test-support/probe-app';
import { useProbeApp } from '../../test-support/use-probe-app';
import { RpcCallError, RpcNotSentError, RpcTimeoutError } from '../errors/rpc-call.error';
import { RelayNatsClient } from '../nats/relay-nats-client';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe.each(HTTP_ADAPTERS)('AccessTokenGuard over HTTP on %s', (adapter) => {
  const { probe, bearer } = useProbeApp(adapter, 'guards');

  it('answers 403 insufficient_scope when the role is missing', async () => {
    const http = await probe().http('/probe/admin', bearer());

    expect(http.status).toBe(403);
    expect(http.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(JSON.parse(http.body)).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: expect.any(String),
    });
  });

  it('lets an admin through', async () => {
    const http = await probe().http('/probe/admin', bearer({ roles: ['admin'] }));

    expect(http.status).toBe(200);
    expect((JSON.parse(http.body) as ProbeView).subject).toBe('user-1');
  });

  it('requires every scope named by @Scopes()', async () => {
    const without = await probe().http('/probe/scoped', bearer({ scope: 'inventory:read' }));
    const withScope = await probe().http(
      '/probe/scoped',
      bearer({ scope: 'inventory:read inventory:write' }),
    );

    expect(without.status).toBe(403);
    expect(withScope.status).toBe(200);
  });

  it('lets @Public() routes through without a token', async () => {
    const http = await probe().http('/probe/public');
    const underPublicController = await probe().http('/probe/open');

    expect(http.status).toBe(200);
    expect(underPublicController.status).toBe(200);
  });

  it('still asks for a caller with the role when a @Roles() handler sits in a @Public() controller', async () => {
    const statuses = await Promise.all(
      [{}, bearer(), bearer({ roles: ['admin'] })].map(
        async (headers) => (await probe().http('/probe/open/admin', headers)).status,
      ),
    );

    expect(statuses).toEqual([401, 403, 200]);
  });

  // CONTRACT: no response ever contains an access token; Nest's 404 names the URL it could not route
  it('answers a route it does not know without echoing the query string (a token may be in it)', async () => {
    const token = bearer().authorization.slice('Bearer '.length);

    const http = await probe().http(`/no-such-route?access_token=${token}`, bearer());

    expect(http.status).toBe(404);
    expect(http.body).not.toContain(token);
    expect(JSON.parse(http.body)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /no-such-route',
    });
  });

  it('refuses a token in the query string', async () => {
    const http = await probe().http(`/probe?access_token=${bearer().authorization.slice('Bearer '.length)}`);

    expect(http.status).toBe(401);
    expect(http.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  // SECURITY T19: the header only, never a token in the body (form or JSON)
  it('refuses a token sent in the request body', async () => {
    const token = bearer().authorization.slice('Bearer '.length);
    const post = (headers: Record<string, string>, body: string): Promise<Response> =>
      fetch(`${probe().url ?? ''}/probe/forward`, { method: 'POST', headers, body });

    const json = await post({ 'content-type': 'application/json' }, JSON.stringify({ access_token: token }));
    const form = await post(
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ access_token: token }).toString(),
    );

    for (const response of [json, form]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(await response.text()).not.toContain(token);
    }
  });

  // SECURITY T18: huge headers are refused by the HTTP server (431) or the guard (401), never a 5xx
  it('refuses a huge authorization header or a huge other header without a server error', async () => {
    const token = bearer().authorization;
    const huge = [
      { authorization: `Bearer ${'a'.repeat(12_000)}` },
      { authorization: `Bearer ${'a'.repeat(40_000)}` },
      { ...bearer(), 'x-filler': 'f'.repeat(40_000) },
    ];

    for (const headers of huge) {
      const response = await fetch(`${probe().url ?? ''}/probe`, { headers });
      const body = await response.text();

      expect([401, 431]).toContain(response.status);
      expect(body).not.toContain(token.slice('Bearer '.length));
    }
  });

  it('refuses a request that sends two Authorization headers, though each alone passes', async () => {
    const [first, second] = [bearer().authorization, bearer({ sub: 'user-2' }).authorization];

    const url = `${probe().url ?? ''}/probe`;

    const twice = await sendRawRequest(url, { headers: { authorization: [first, second] } });
    const once = await sendRawRequest(url, { headers: { authorization: first } });

    expect(twice.status).toBe(401);
    expect(twice.body).not.toContain(first.slice('Bearer '.length));
    expect(once.status).toBe(200);
  });

  it('propagates token, trace id and request id from HTTP to the NATS handler it calls', async () => {
    const headers = { ...bearer(), traceparent: TRACEPARENT, 'x-request-id': 'req-http-1' };

    const http = await probe().http('/probe/forward', headers);
    const downstream = JSON.parse(http.body) as ProbeView;

    expect(http.status).toBe(200);
    expect(downstream.authorization).toBe(headers.authorization);
    expect(downstream.token).toBe(headers.authorization.slice('Bearer '.length));
    expect(downstream.traceId).toBe(TRACE_ID);
    // no OpenTelemetry SDK in this app: it records no span, so the caller's context travels on unchanged
    expect(downstream.traceparent).toBe(TRACEPARENT);
    expect(downstream.requestId).toBe('req-http-1');
  });

  it('keeps an unsampled flag and the tracestate of the incoming trace', async () => {
    const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-00`;
    const headers = { ...bearer(), traceparent, tracestate: 'vendor=opaque,other=1' };

    const downstream = JSON.parse((await probe().http('/probe/forward', headers)).body) as ProbeView;

    expect(downstream.traceparent).toBe(traceparent);
    expect(downstream.tracestate).toBe('vendor=opaque,other=1');
  });

  it('keeps the call context through a request body read from the socket (POST over real HTTP)', async () => {
    const headers = {
      ...bearer({ sub: 'poster' }),
      traceparent: TRACEPARENT,
      'x-request-id': 'req-post-1',
      'content-type': 'application/json',
    };
    // under the body parsers' default limits on both adapters (Express: 100 kB)
    const body = JSON.stringify({ padding: 'x'.repeat(90_000) });

    const response = await fetch(`${probe().url ?? ''}/probe/forward`, { method: 'POST', headers, body });
    const answer = (await response.json()) as { body: { padding: string }; downstream: ProbeView };

    expect(response.status).toBe(201);
    expect(answer.body.padding).toHaveLength(90_000);
    expect(answer.downstream).toEqual(
      expect.objectContaining({
        subject: 'poster',
        authorization: headers.authorization,
        traceId: TRACE_ID,
        requestId: 'req-post-1',
      }),
    );
  });

  it('starts a trace and a request id when the caller sent none', async () => {
    const http = await probe().http('/probe/forward', bearer());
    const downstream = JSON.parse(http.body) as ProbeView;

    // a new trace, flagged not sampled: nothing was recorded for it (no SDK here)
    expect(downstream.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(downstream.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

// NATS does not depend on the HTTP adapter: once, on the default (Fastify) hybrid app
describe('AccessTokenGuard over NATS', () => {
  const { probe, nats, bearer } = useProbeApp('fastify', 'guards');

  it('answers err 403 when the role is missing, and lets an admin through', async () => {
    const refused = await nats().request(`${probe().prefix}.admin`, {}, { headers: bearer() });
    const admitted = await nats().request<ProbeView>(
      `${probe().prefix}.admin`,
      {},
      { headers: bearer({ roles: ['admin'] }) },
    );

    expect(refused.err).toEqual({ status: 403, message: expect.any(String) });
    expect(admitted.response?.subject).toBe('user-1');
  });

  it('refuses a message that carries two authorization headers, though each alone passes', async () => {
    const [first, second] = [bearer().authorization, bearer({ sub: 'user-2' }).authorization];

    const twice = await nats().request(
      `${probe().prefix}.probe`,
      {},
      { headers: { authorization: [first, second] } },
    );
    const once = await nats().request(`${probe().prefix}.probe`, {}, { headers: { authorization: first } });

    expect(twice.err).toEqual({ status: 401, message: expect.any(String) });
    expect(once.err).toBeUndefined();
  });

  it('refuses a token in the payload', async () => {
    const reply = await nats().request(`${probe().prefix}.probe`, {
      access_token: bearer().authorization.slice('Bearer '.length),
    });

    expect(reply.err).toEqual({ status: 401, message: expect.any(String) });
  });

  it('guards @EventPattern handlers: only the authenticated event is handled', async () => {
    const { prefix, events } = probe();
    await nats().emit(
      `${prefix}.event`,
      { n: 1 },
      { headers: { authorization: 'Bearer forged.token.here' } },
    );
    await nats().emit(`${prefix}.event`, { n: 2 });
    await nats().emit(`${prefix}.event`, { n: 3 }, { headers: bearer({ sub: 'user-3' }) });
    await waitFor(() => events.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(events).toEqual([{ subject: 'user-3', data: { n: 3 } }]);
  });

  it('propagates token, trace id and request id from NATS to NATS', async () => {
    const headers = { ...bearer(), traceparent: TRACEPARENT, 'x-request-id': 'req-nats-1' };

    const reply = await nats().request<ProbeView>(`${probe().prefix}.forward`, {}, { headers });

    expect(reply.response).toEqual(
      expect.objectContaining({
        subject: 'user-1',
        authorization: headers.authorization,
        traceId: TRACE_ID,
        requestId: 'req-nats-1',
      }),
    );
  });

  it('maps err replies, silence and no responders to typed errors in RelayNatsClient', async () => {
    const { app, prefix } = probe();
    const client = app.get(RelayNatsClient);

    await expect(client.send(`${prefix}.probe`, {})).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(client.send(`${prefix}.slow`, {}, { timeoutMs: 100 })).rejects.toBeInstanceOf(
      RpcTimeoutError,
    );
    await expect(client.send(`${prefix}.nobody-home`, {})).rejects.toEqual(
      expect.objectContaining({ status: 503 }),
    );
    await expect(client.send(`${prefix}.nobody-home`, {})).rejects.toBeInstanceOf(RpcNotSentError);
    await expect(client.ping()).resolves.toBeUndefined();
    expect(new RpcCallError(409, 'insufficient_stock')).toEqual(
      expect.objectContaining({ status: 409, reason: 'insufficient_stock' }),
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
