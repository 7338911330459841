import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

import { connect, Events, type NatsConnection } from 'nats';

import { getFreePort, msUntil, natsServerCommand, waitForPort } from '@relay/testing';

import { natsConnectionOptions } from './nats-connection';

/** A nats-server taking one token only: restarted with another, it refuses this service's credentials. */
async function startServer(port: number, token: string): Promise<ChildProcess> {
  const server = spawn(
    natsServerCommand() ?? 'nats-server',
    ['-a', '127.0.0.1', '-p', String(port), '--auth', token],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(port, '127.0.0.1', 10_000);
  return server;
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGKILL');
  await exited;
}

describe(natsConnectionOptions.name, () => {
  it('keeps reconnecting through refused credentials (a server restarted without this identity for a while)', async () => {
    const port = await getFreePort();
    let server = await startServer(port, 'relay-token');
    let connection: NatsConnection | undefined;
    try {
      connection = await connect({
        ...natsConnectionOptions({ url: `nats://127.0.0.1:${port}`, name: 'orders' }),
        token: 'relay-token',
      });
      const refusals: string[] = [];
      void (async () => {
        for await (const status of connection.status()) {
          if (status.type === Events.Error) refusals.push(String(status.data));
        }
      })();

      // back with a configuration that does not know this service yet: every reconnect is refused
      await stopServer(server);
      server = await startServer(port, 'another-token');
      await msUntil(() => refusals.length >= 2, 10_000);
      // and back again with it: the service is on the bus again, on its own
      await stopServer(server);
      server = await startServer(port, 'relay-token');

      await msUntil(async () => {
        if (connection?.isClosed()) throw new Error('the connection closed for good after the refusals');
        return (
          (await connection?.rtt().then(
            () => true,
            () => false,
          )) ?? false
        );
      }, 10_000);
      expect(connection.isClosed()).toBe(false);
    } finally {
      await connection?.close();
      await stopServer(server);
    }
  }, 40_000);
});
