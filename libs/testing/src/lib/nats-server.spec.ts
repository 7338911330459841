import { connect } from 'nats';

import { startNatsServer } from './nats-server';
import { waitForPort } from './ports';

/** Writes `value` under `key` in the KV bucket `bucket` of the server at `url`. */
async function putKey(url: string, bucket: string, value: string): Promise<void> {
  const connection = await connect({ servers: url });
  try {
    await (await connection.jetstream().views.kv(bucket)).put('key', new TextEncoder().encode(value));
  } finally {
    await connection.close();
  }
}

/** What `key` holds in the KV bucket `bucket` of the server at `url`. */
async function readKey(url: string, bucket: string): Promise<string | undefined> {
  const connection = await connect({ servers: url });
  try {
    const entry = await (await connection.jetstream().views.kv(bucket)).get('key');
    return entry === null ? undefined : new TextDecoder().decode(entry.value);
  } finally {
    await connection.close();
  }
}

describe(startNatsServer.name, () => {
  it('runs a private JetStream server that keeps its store across restart() and is gone after stop()', async () => {
    const server = await startNatsServer({ jetstream: true });
    try {
      await putKey(server.url, 'nats-server-spec', 'kept');

      await server.restart();
      const value = await readKey(server.url, 'nats-server-spec');

      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
      expect(value).toBe('kept');
    } finally {
      await server.stop();
    }
    await expect(waitForPort(server.port, '127.0.0.1', 300)).rejects.toThrow(/did not open/);
    await expect(server.restart()).rejects.toThrow(/stopped/);
  });

  it('halts for an outage on the same port and resumes with the same store', async () => {
    const server = await startNatsServer({ jetstream: true });
    try {
      await putKey(server.url, 'nats-server-halt', 'kept');
      const firstPid = server.pid;

      await server.halt();
      const haltedPid = server.pid;
      await expect(waitForPort(server.port, '127.0.0.1', 300)).rejects.toThrow(/did not open/);
      await server.resume();
      await expect(server.resume()).rejects.toThrow(/already running/);
      const value = await readKey(server.url, 'nats-server-halt');

      expect(value).toBe('kept');
      expect(firstPid).toEqual(expect.any(Number));
      expect(haltedPid).toBeUndefined();
      expect(server.pid).toEqual(expect.any(Number));
      expect(server.pid).not.toBe(firstPid);
    } finally {
      await server.stop();
    }
    await expect(server.halt()).rejects.toThrow(/stopped/);
  });

  it('runs a closed bus: an identity connects over TLS, anonymous and plain-TCP clients are refused', async () => {
    const server = await startNatsServer({ closed: true });
    try {
      const orders = await connect(server.connectionOptions('orders'));
      await orders.flush();
      await orders.close();

      await expect(connect({ servers: server.url, tls: { caFile: server.bus?.caFile } })).rejects.toThrow();
      await expect(connect({ servers: server.url.replace('tls://', 'nats://') })).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});
