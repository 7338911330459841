import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, Socket } from 'node:net';

/** Where ports are picked when the kernel's ephemeral range starts high enough (Linux default 32768). */
const LOWEST_PICKED_PORT = 20_000;
const PICK_ATTEMPTS = 50;
/** IANA's ephemeral range starts here (macOS and Windows use it) when the kernel's range cannot be read. */
const IANA_EPHEMERAL_LOW = 49_152;

const handedOut = new Set<number>();

/**
 * A TCP port that was free on every IPv4 interface a moment ago, for a server this process or a
 * child it spawns binds next. It is picked below the kernel's ephemeral range
 * (`net.ipv4.ip_local_port_range`), never handed out twice by this process: a port from that range
 * can be taken as the local port of any outgoing connection on the machine in the seconds before
 * a spawned app binds it, which then exits with EADDRINUSE.
 */
export async function getFreePort(): Promise<number> {
  const highest = ephemeralRangeLow() - 1;
  if (highest > LOWEST_PICKED_PORT) {
    for (let attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
      const port = randomInt(LOWEST_PICKED_PORT, highest + 1);
      if (!handedOut.has(port) && (await canListen(port))) {
        handedOut.add(port);
        return port;
      }
    }
  }
  return anyFreePort();
}

function ephemeralRangeLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const port = Number(low);
    return Number.isInteger(port) && port > 0 ? port : IANA_EPHEMERAL_LOW;
  } catch {
    return IANA_EPHEMERAL_LOW;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** The kernel's choice (from the ephemeral range): the fallback when no port below it is free. */
function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `host:port` accepts TCP connections; rejects after `timeoutMs` (default 10 s). */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(port, host)) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not open within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function canConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (isOpen: boolean): void => {
      socket.destroy();
      resolve(isOpen);
    };
    socket.setTimeout(500);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}
