import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createLocalJWKSet, jwtVerify } from 'jose';

import { createTestIssuer, type TestIssuer } from '@relay/testing';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** One token request as the endpoint received it. */
export interface RecordedTokenRequest {
  authorization?: string;
  contentType?: string;
  /** `traceparent` and `x-request-id` as received (absent when not sent). */
  traceparent?: string;
  requestId?: string;
  params: Record<string, string>;
}

/**
 * A real HTTP issuer for specs, at `http://127.0.0.1:<port>`: `/.well-known/jwks.json` and just
 * enough of `/oauth/token` (RFC 6749 client_credentials, RFC 8693 token exchange, Basic auth).
 */
export interface IssuerServer {
  readonly url: string;
  readonly issuer: TestIssuer;
  readonly requests: RecordedTokenRequest[];
  /** Subjects whose tokens the exchange refuses with `invalid_grant`. */
  readonly refusedSubjects: Set<string>;
  /** `expires_in` of issued tokens (capped by the subject token's `exp`). Default: 300. */
  expiresIn: number;
  /** How long `/oauth/token` takes to answer, in ms (a slow issuer). Default: 0. */
  delayMs: number;
  stop(): Promise<void>;
}

/** Starts the issuer; `clients` maps client id → secret. */
export async function startIssuerServer(clients: Record<string, string>): Promise<IssuerServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: IssuerServer = {
    url,
    issuer: createTestIssuer({ issuer: url }),
    requests: [],
    refusedSubjects: new Set(),
    expiresIn: 300,
    delayMs: 0,
    stop: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const answered = handle(state, clients, request);
    const delay = new Promise((resolve) => setTimeout(resolve, state.delayMs));
    void Promise.all([answered, delay]).then(([{ status, body }]) => {
      response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify(body));
    });
  });
  return state;
}

interface Answer {
  status: number;
  body: unknown;
}

async function handle(
  state: IssuerServer,
  clients: Record<string, string>,
  request: IncomingMessage,
): Promise<Answer> {
  if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
    return { status: 200, body: state.issuer.jwks() };
  }
  if (request.method !== 'POST' || request.url !== '/oauth/token') return { status: 404, body: {} };
  let raw = '';
  for await (const chunk of request) raw += String(chunk);
  const params = Object.fromEntries(new URLSearchParams(raw));
  state.requests.push({
    authorization: request.headers.authorization,
    contentType: request.headers['content-type'],
    ...optionalHeader('traceparent', request.headers['traceparent']),
    ...optionalHeader('requestId', request.headers['x-request-id']),
    params,
  });
  const clientId = authenticate(request.headers.authorization, clients);
  if (clientId === undefined) return { status: 401, body: { error: 'invalid_client' } };
  const now = Math.floor(Date.now() / 1000);
  if (params['grant_type'] === 'client_credentials') {
    const aud = params['audience'] === undefined ? ['orders', 'inventory'] : [params['audience']];
    const claims = {
      sub: clientId,
      client_id: clientId,
      aud,
      roles: [],
      sid: undefined,
      iat: now,
      exp: now + state.expiresIn,
    };
    return tokenAnswer(state.issuer.mintAccessToken({ claims }), state.expiresIn);
  }
  if (params['grant_type'] !== EXCHANGE) return { status: 400, body: { error: 'unsupported_grant_type' } };
  if (params['subject_token_type'] !== ACCESS_TOKEN || params['audience'] === undefined) {
    return { status: 400, body: { error: 'invalid_request' } };
  }
  const subject = await jwtVerify(params['subject_token'] ?? '', createLocalJWKSet(state.issuer.jwks()), {
    issuer: state.url,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  }).then(
    ({ payload }) => payload,
    () => undefined,
  );
  if (subject === undefined || state.refusedSubjects.has(String(subject.sub))) {
    return { status: 400, body: { error: 'invalid_grant' } };
  }
  const exp = Math.min(Number(subject.exp), now + state.expiresIn);
  const claims = {
    ...subject,
    aud: [params['audience']],
    act: { sub: clientId },
    jti: randomUUID(),
    iat: now,
    exp,
  };
  return tokenAnswer(state.issuer.mintAccessToken({ claims }), exp - now);
}

function tokenAnswer(accessToken: string, expiresIn: number): Answer {
  return {
    status: 200,
    body: {
      access_token: accessToken,
      issued_token_type: ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: expiresIn,
    },
  };
}

function authenticate(header: string | undefined, clients: Record<string, string>): string | undefined {
  const match = /^Basic (\S+)$/.exec(header ?? '');
  if (match === null) return undefined;
  const [id, secret] = Buffer.from(match[1], 'base64')
    .toString()
    .split(':')
    .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
  return clients[id] !== undefined && clients[id] === secret ? id : undefined;
}

function optionalHeader(name: 'traceparent' | 'requestId', value: string | string[] | undefined) {
  return typeof value === 'string' ? { [name]: value } : {};
}
