import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

import { getFreePort } from './ports';

function listen(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () =>
      resolve(() => new Promise<void>((closed) => server.close(() => closed()))),
    );
  });
}

describe('getFreePort', () => {
  it('hands out ports below the kernel ephemeral range, which outgoing connections never take', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const ports = await Promise.all(Array.from({ length: 20 }, () => getFreePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(Number(low));
    }
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('hands out a port a server can bind on every interface next', async () => {
    const close = await listen(await getFreePort());
    await close();
  });
});
