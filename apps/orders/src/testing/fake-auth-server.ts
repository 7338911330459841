import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { claimsOf } from './inventory-stand-in';

/** What the fake server needs from a test issuer (specs pass `@relay/testing`'s TestIssuer). */
export interface FakeAuthIssuer {
  jwks(): unknown;
  mintAccessToken(overrides: { claims: Record<string, unknown> }): string;
}

/** A service client of the fake token endpoint, as AUTH_CLIENTS would declare it. */
export interface FakeClient {
  secret: string;
  scopes: string[];
}

/**
 * The issuer's HTTP side for orders' specs (specs only): `GET /.well-known/jwks.json` and
 * `POST /oauth/token` (client_credentials and RFC 8693 token exchange, HTTP Basic client auth).
 * The subject token of an exchange is not verified here: orders' guard verified it already.
 */
export class FakeAuthServer {
  readonly grants: Array<{ grantType: string; clientId: string; audience: string | undefined }> = [];
  private issuer: FakeAuthIssuer | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly clients: Record<string, FakeClient>,
  ) {}

  static async start(clients: Record<string, FakeClient>): Promise<FakeAuthServer> {
    let handler: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
    const server = createServer((request, response) => handler(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeAuthServer(server, `http://127.0.0.1:${port}`, clients);
    handler = (request, response) => void fake.handle(request, response);
    return fake;
  }

  use(issuer: FakeAuthIssuer): void {
    this.issuer = issuer;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify(body));
    };
    if (this.issuer === undefined) return send(503, { error: 'temporarily_unavailable' });
    if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
      return send(200, this.issuer.jwks());
    }
    if (request.method !== 'POST' || request.url !== '/oauth/token') return send(404, { error: 'not_found' });
    const clientId = this.authenticate(request.headers.authorization);
    if (clientId === undefined) return send(401, { error: 'invalid_client' });
    const params = new URLSearchParams(await readBody(request));
    const grantType = params.get('grant_type') ?? '';
    const audience = params.get('audience') ?? undefined;
    this.grants.push({ grantType, clientId, audience });
    const claims = this.claimsFor(grantType, clientId, audience, params.get('subject_token'));
    if (claims === undefined) return send(400, { error: 'unsupported_grant_type' });
    send(200, {
      access_token: this.issuer.mintAccessToken({ claims }),
      token_type: 'Bearer',
      expires_in: 900,
    });
  }

  private claimsFor(
    grantType: string,
    clientId: string,
    audience: string | undefined,
    subjectToken: string | null,
  ): Record<string, unknown> | undefined {
    const aud = audience === undefined ? ['orders', 'inventory'] : [audience];
    if (grantType === 'client_credentials') {
      return {
        sub: clientId,
        client_id: clientId,
        aud,
        roles: [],
        scope: this.clients[clientId].scopes.join(' '),
        sid: undefined,
      };
    }
    if (grantType === 'urn:ietf:params:oauth:grant-type:token-exchange' && subjectToken !== null) {
      const subject = claimsOf(`Bearer ${subjectToken}`);
      return {
        sub: subject['sub'],
        roles: subject['roles'],
        scope: subject['scope'],
        client_id: clientId,
        aud,
        act: { sub: clientId },
      };
    }
    return undefined;
  }

  private authenticate(header: string | undefined): string | undefined {
    const [scheme, encoded] = (header ?? '').split(' ');
    if (scheme !== 'Basic' || encoded === undefined) return undefined;
    const [id, secret] = Buffer.from(encoded, 'base64').toString('utf8').split(':').map(decodeURIComponent);
    return this.clients[id]?.secret === secret ? id : undefined;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}
