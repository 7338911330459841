import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { JSONWebKeySet } from 'jose';

/** A real HTTP JWKS endpoint on 127.0.0.1 that can be stopped and restarted on the same port. */
export interface JwksServer {
  /** `http://127.0.0.1:<port>/.well-known/jwks.json`. */
  readonly url: string;
  readonly port: number;
  /** Requests served so far (all paths). */
  readonly requests: number;
  /** Stops listening (keeps the port number for `start()`). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** Serves `jwks()` (read on every request, so rotations show at once) on a free port. */
export async function serveJwks(jwks: () => JSONWebKeySet): Promise<JwksServer> {
  let requests = 0;
  let server: Server | undefined;
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const created = createServer((request, response) => {
        requests += 1;
        if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
          response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
          response.end(JSON.stringify(jwks()));
          return;
        }
        response.writeHead(404, { connection: 'close' }).end();
      });
      created.once('error', reject);
      created.listen(port, '127.0.0.1', () => {
        server = created;
        resolve((created.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    port,
    get requests() {
      return requests;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        const running = server;
        server = undefined;
        if (running === undefined) return resolve();
        running.closeAllConnections();
        running.close((error) => (error ? reject(error) : resolve()));
      }),
    start: async () => {
      if (server === undefined) await listen(port);
    },
  };
}
