import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';

import { type NatsServer, startNatsServer } from '@relay/testing';

import { RevocationList } from '../revocation/revocation-list';
import { compileClientOnlyModule } from '../../test-support/client-only-module';
import { RelayNatsClient } from './relay-nats-client';

/** A TCP front for NATS: refuses (resets) connections, or forwards them after a delay. */
class GatedProxy {
  mode: 'refuse' | 'forward' = 'refuse';
  accepted = 0;
  readonly open = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: NatsServer, delayMs: number): Promise<GatedProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no proxy port');
    const proxy = new GatedProxy(server, address.port);
    server.on('connection', (client) => proxy.accept(client, target, delayMs));
    return proxy;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, target: NatsServer, delayMs: number): void {
    this.accepted += 1;
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    client.pause();
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = connectTcp(target.port, '127.0.0.1');
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    }, delayMs);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Run alone with --detectOpenHandles: after close() nothing may keep the process alive.
describe(`${RelayNatsClient.name} after application shutdown`, () => {
  let nats: NatsServer;
  let proxy: GatedProxy;

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
    proxy = await GatedProxy.start(nats, 500);
  });

  afterAll(async () => {
    await proxy?.stop();
    await nats?.stop();
  });

  it('neither finishes an in-flight connect nor retries once the module is closed', async () => {
    const moduleRef = await compileClientOnlyModule(proxy.url, 'shutdown');
    await moduleRef.init();
    const client = moduleRef.get(RelayNatsClient);
    expect(moduleRef.get(RevocationList).isSynced()).toBe(false);

    // the revocation list retries every 2 s; let the next attempt reach NATS slowly, close mid-way
    proxy.mode = 'forward';
    const acceptedBefore = proxy.accepted;
    const deadline = Date.now() + 5000;
    while (proxy.accepted === acceptedBefore && Date.now() < deadline) await sleep(20);
    expect(proxy.accepted).toBe(acceptedBefore + 1);
    await moduleRef.close();

    await sleep(2600);

    expect(proxy.open.size).toBe(0);
    expect(proxy.accepted).toBe(acceptedBefore + 1);
    await expect(client.connection()).rejects.toThrow(/closed/);
    await expect(client.send('test.after-close', {})).rejects.toThrow(/closed/);
    expect(proxy.accepted).toBe(acceptedBefore + 1);
  }, 20_000);
});
