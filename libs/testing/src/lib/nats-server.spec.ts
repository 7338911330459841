import { connect } from 'nats';

import { startNatsServer } from './nats-server';
import { waitForPort } from './ports';

describe(startNatsServer.name, () => {
  it('runs a private JetStream server that keeps its store across restart() and is gone after stop()', async () => {
    const server = await startNatsServer({ jetstream: true });
    try {
      const first = await connect({ servers: server.url });
      const kv = await first.jetstream().views.kv('nats-server-spec');
      await kv.put('key', new TextEncoder().encode('kept'));
      await first.close();

      await server.restart();
      const second = await connect({ servers: server.url });
      const entry = await (await second.jetstream().views.kv('nats-server-spec')).get('key');
      await second.close();

      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
      expect(new TextDecoder().decode(entry?.value)).toBe('kept');
    } finally {
      await server.stop();
    }
    await expect(waitForPort(server.port, '127.0.0.1', 300)).rejects.toThrow(/did not open/);
    await expect(server.restart()).rejects.toThrow(/stopped/);
  }, 30_000);

  it('halts for an outage on the same port and resumes with the same store', async () => {
    const server = await startNatsServer({ jetstream: true });
    try {
      const first = await connect({ servers: server.url });
      const kv = await first.jetstream().views.kv('nats-server-halt');
      await kv.put('key', new TextEncoder().encode('kept'));
      await first.close();

      await server.halt();
      await expect(waitForPort(server.port, '127.0.0.1', 300)).rejects.toThrow(/did not open/);
      await server.resume();
      await expect(server.resume()).rejects.toThrow(/already running/);
      const second = await connect({ servers: server.url });
      const entry = await (await second.jetstream().views.kv('nats-server-halt')).get('key');
      await second.close();

      expect(new TextDecoder().decode(entry?.value)).toBe('kept');
    } finally {
      await server.stop();
    }
    await expect(server.halt()).rejects.toThrow(/stopped/);
  }, 30_000);
});
