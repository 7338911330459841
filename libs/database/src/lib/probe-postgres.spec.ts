import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

import { isDatabaseUnavailable } from './database-unavailable';
import { probePostgres } from './probe-postgres';
import { createScratchPostgresDatabase } from './scratch-postgres';

/** The failure of `call`, or `undefined` when it resolves. */
function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/**
 * A server that takes any login (AuthenticationOk, ReadyForQuery) and then never answers a query:
 * a pooler holding its clients while it has no server to give them.
 */
async function startSilentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      const authenticationOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
      const readyForQuery = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
      socket.write(Buffer.concat([authenticationOk, readyForQuery]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgres://relay@127.0.0.1:${port}/relay`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('probePostgres', () => {
  it('resolves against a server that answers', async () => {
    const scratch = await createScratchPostgresDatabase();
    try {
      await expect(probePostgres(scratch.url, 2000)).resolves.toBeUndefined();
    } finally {
      await scratch.drop();
    }
  });

  // before, a server that took the connection and held the query kept the start waiting for ever
  it('gives up on a query the server holds past the timeout, as a failure worth retrying', async () => {
    const silent = await startSilentServer();
    try {
      const failure = await failureOf(probePostgres(silent.url, 300));
      expect(String(failure)).toMatch(/Query read timeout/);
      expect(isDatabaseUnavailable(failure)).toBe(true);
    } finally {
      await silent.close();
    }
  });

  it('fails as unavailable where nothing listens', async () => {
    const silent = await startSilentServer();
    const { url } = silent;
    await silent.close();
    const failure = await failureOf(probePostgres(url, 2000));
    expect(failure).toBeDefined();
    expect(isDatabaseUnavailable(failure)).toBe(true);
  });
});
