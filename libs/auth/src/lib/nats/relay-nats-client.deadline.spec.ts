import { createServer, type Server, type Socket } from 'node:net';

import type { TestingModule } from '@nestjs/testing';

import { RpcNotSentError } from '../errors/rpc-call.error';
import { compileClientOnlyModule } from '../../test-support/client-only-module';
import { RelayNatsClient } from './relay-nats-client';

// a server that takes the connection and never says a word: a NATS host whose process hangs, or a
// port forwarded to nothing. nats.js waits 20 s for its INFO before it gives up the first connect
async function startSilentServer(): Promise<{ server: Server; sockets: Set<Socket>; url: string }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return { server, sockets, url: `nats://127.0.0.1:${address.port}` };
}

describe(`${RelayNatsClient.name} before its first connect`, () => {
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    silent = await startSilentServer();
    moduleRef = await compileClientOnlyModule(silent.url, 'deadline');
  });

  afterAll(async () => {
    await moduleRef?.close();
    for (const socket of silent.sockets) socket.destroy();
    await new Promise((resolve) => silent.server.close(resolve));
  });

  it('gives up a call at its deadline while the first connect still waits for the server', async () => {
    const client = moduleRef.get(RelayNatsClient);
    const startedAt = Date.now();

    const outcome = await client.send('inventory.stock', { sku: 'sku-apple' }, { timeoutMs: 500 }).then(
      () => 'answered',
      (error: unknown) => error,
    );

    // never sent: nothing was done on its behalf
    expect(outcome).toBeInstanceOf(RpcNotSentError);
    // the call's 500 ms and a margin for a loaded machine, not nats.js's 20 s
    expect(Date.now() - startedAt).toBeLessThan(3000);
  }, 30_000);
});
