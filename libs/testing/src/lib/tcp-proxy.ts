import { createConnection, createServer, type Server, type Socket } from 'node:net';

import { getFreePort } from './ports';

/** A TCP proxy on 127.0.0.1 that a spec can cut and restore, as a network partition would. */
export interface TcpProxy {
  /** The proxy's port: connect here instead of the target. */
  readonly port: number;
  /**
   * Stops every byte in both directions without closing anything (sockets stay open, half-open to
   * both ends): what a partition looks like to a client that has not timed out yet.
   */
  cut(): void;
  /** Lets the held bytes and every later one through again. */
  restore(): void;
  /** Closes the proxy and every connection through it. */
  stop(): Promise<void>;
}

/** Starts a proxy from a free port on 127.0.0.1 to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await getFreePort();
  const sockets = new Set<Socket>();
  // bytes that arrived during a cut, per destination, delivered in order on restore
  const held = new Map<Socket, Buffer[]>();
  let isCut = false;
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (isCut) held.set(to, [...(held.get(to) ?? []), chunk]);
      else to.write(chunk);
    });
  };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      held.delete(socket);
    });
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    track(client);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    cut: () => {
      isCut = true;
    },
    restore: () => {
      isCut = false;
      for (const [socket, chunks] of held) for (const chunk of chunks) socket.write(chunk);
      held.clear();
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
