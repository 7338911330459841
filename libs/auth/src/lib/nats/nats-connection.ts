import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { connect, type ConnectionOptions, nkeyAuthenticator } from 'nats';

import { isSocketFailure } from '@relay/contracts';

/** Where, and as whom, a service connects to NATS. */
export interface NatsConnectionSettings {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Connection name (shown by `nats server report connections`). */
  name: string;
  /** PEM file the server certificate must chain to. Set: TLS is required. Default: plain TCP. */
  tlsCaFile?: string;
  /** File holding this service's NKey seed (`SU…`), its identity on the bus. Default: anonymous. */
  nkeySeedFile?: string;
  /** Prefix of this connection's reply inboxes. Default: `_INBOX_<name>`. */
  inboxPrefix?: string;
}

/** The reply-inbox prefix of service `name` when none is configured: its own, never the shared `_INBOX`. */
export function defaultInboxPrefix(name: string): string {
  return `_INBOX_${name}`;
}

/**
 * The inbox prefix of the revocation feed's connection: under the service's own (its identity may
 * subscribe there already), in the part of it a callee allowed to answer into that inbox must not
 * publish to (libs/nats-bus denies `<prefix>.revocations.>` to inventory), and ending in 128 random
 * bits drawn for each connection. On the connection its requests use, nats.js would put JetStream's
 * answers to the feed beside the callee's, with ids drawn from the one sequence the callee sees in
 * every request: it could answer for JetStream ("the bucket is empty"). And the random part keeps the
 * watch's subject unguessable, so a reader identity cannot point a consumer of its own at it (its
 * deliveries, real entries, could end the replay before the watch's own had arrived): permissions
 * cannot see where a consumer delivers.
 */
export function revocationInboxPrefix(
  settings: Pick<NatsConnectionSettings, 'name' | 'inboxPrefix'>,
): string {
  const prefix = settings.inboxPrefix ?? defaultInboxPrefix(settings.name);
  return `${prefix}.revocations.${randomBytes(16).toString('hex')}`;
}

/**
 * nats.js options for every connection a service opens (Nest's client and server, the revocation
 * feed): its own reply inboxes, because an identity allowed to subscribe `_INBOX.>` could read every
 * other service's replies; TLS and an NKey identity when configured; endless reconnects.
 */
export function natsConnectionOptions(settings: NatsConnectionSettings): ConnectionOptions {
  return {
    servers: settings.url.split(','),
    name: settings.name,
    inboxPrefix: settings.inboxPrefix ?? defaultInboxPrefix(settings.name),
    maxReconnectAttempts: -1,
    // nats.js gives up for good after the same authorization error twice: a server restarted with a
    // configuration that lacks this identity for a moment would leave the service off the bus until
    // its own restart, refusing every token (its liveness still fine)
    ignoreAuthErrorAbort: true,
    // back within a quarter second of the server: revocations wait on it (CONTRACT: 1 s); nats.js
    // adds up to 1 s of random delay to a TLS reconnect by default
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    reconnectJitterTLS: 100,
    // nats.js's own check of a silent socket (a partition); the revocation feed probes far faster
    pingInterval: 5000,
    maxPingOut: 2,
    // nats.js would capture a stack trace for every request and subscription timer, for a timeout's
    // error: the RelayNatsClient turns one into its own RpcTimeoutError, so that stack is never read
    noAsyncTraces: true,
    // no cipher list: nats-server (Go) then picks TLS_AES_128_GCM_SHA256 (AES in hardware, OpenSSL
    // lists AES-GCM first), its fastest; preferring ChaCha20 cost the server more per hop (bench, closed-bus)
    ...(settings.tlsCaFile === undefined ? {} : { tls: { caFile: settings.tlsCaFile } }),
    ...(settings.nkeySeedFile === undefined
      ? {}
      : { authenticator: nkeyAuthenticator(readSeed(settings.nkeySeedFile)) }),
  };
}

function readSeed(file: string): Uint8Array {
  return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
}

// nats.js's own codes for a server that did not answer (beside the socket's: see isSocketFailure)
const UNANSWERED: ReadonlySet<string> = new Set(['CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'TIMEOUT']);

/**
 * Connects once as the service would (TLS, NKey identity), without reconnecting, waits for the
 * server's answer to a ping and closes: resolves when the bus takes this service, rejects with
 * nats.js's error when it does not (see {@link isNatsUnreachable}).
 */
export async function probeNats(settings: NatsConnectionSettings, timeoutMs: number): Promise<void> {
  const connection = await connect({
    ...natsConnectionOptions(settings),
    reconnect: false,
    timeout: timeoutMs,
  });
  try {
    await connection.flush();
  } finally {
    await connection.close();
  }
}

/** Whether a failed connect says the server is not there (yet), rather than refusing this service. */
export function isNatsUnreachable(error: unknown): boolean {
  const { code } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown };
  return isSocketFailure(code) || (typeof code === 'string' && UNANSWERED.has(code));
}
