/**
 * `@relay/auth/testing`: the test kit an app secured with `@relay/auth` uses in its own specs, against
 * real servers: an issuer with its own keys and JWKS endpoint, token minting including the forged
 * token families of the acceptance table, a NATS client speaking Nest's wire format with headers
 * both ways, and a private `nats-server`.
 *
 * It is built from the same sources as the library's own specs (`@relay/testing`, `token-cases.ts`),
 * so a change there reaches adopters' specs with the next package.
 */
import { randomUUID } from 'node:crypto';

import type { Msg, Subscription } from 'nats';

import { createTestIssuer, type NatsTestClient, type TestIssuer } from '@relay/testing';

import { buildTokenCases, revocationFixtures, type TokenCase } from './token-cases';

export {
  createRevocationBucket,
  createTestIssuer,
  getFreePort,
  type JwksServer,
  type MintOverrides,
  NatsTestClient,
  type NatsTestCallOptions,
  type NatsServer,
  type NatsServerOptions,
  type NestReply,
  serveJwks,
  startNatsServer,
  type TestIssuer,
  type TestIssuerOptions,
} from '@relay/testing';
export { buildTokenCases, revocationFixtures, type TokenCase };

/** A token an app must refuse, and why. */
export interface ForgedToken {
  reason: string;
  /** The `Authorization` header value to send (`undefined`: no header); minted for the current second. */
  authorization(): string | undefined;
}

/** Options of {@link forgedTokens}. */
export interface ForgedTokenOptions {
  /**
   * URL the `jku` / `x5u` rows name (a verifier must never fetch it). Serve an attacker's JWKS there
   * to catch a verifier that does. Default: a closed port on 127.0.0.1.
   */
  attackerJwksUrl?: string;
}

const NEVER_FETCHED = 'http://127.0.0.1:9/.well-known/jwks.json';

/**
 * The refused rows of the token acceptance table (SECURITY.md T1–T22: `alg: none`, HMAC keyed with
 * the public key, embedded and remote keys, tampered claims and signatures, bad `typ`/`iss`/`exp`/
 * `nbf`/`iat`, oversized and malformed tokens…) that hold for any app trusting `issuer`: rows that
 * only a seeded revocation bucket refuses, and rows minted for another service's audience, are left
 * out. Your app must answer each with 401, on HTTP and on NATS.
 *
 * Each `authorization()` mints its row for the nearest whole second, so rows at the edge of the 30 s
 * clock tolerance stay on their side of it however long the spec runs, and whether the app reads its
 * clock in that second or the next (a token minted at 12.999 s for second 12 with `nbf` 31 s ahead is
 * only 30 s ahead at 13.001 s, inside the tolerance).
 */
export function forgedTokens(issuer: TestIssuer, options: ForgedTokenOptions = {}): ForgedToken[] {
  const attackerJwksUrl = (): string => options.attackerJwksUrl ?? NEVER_FETCHED;
  let table: { now: number; rows: Map<string, TokenCase> } | undefined;
  const rowsNow = (): Map<string, TokenCase> => {
    const now = Math.round(Date.now() / 1000);
    if (table?.now !== now) {
      const rows = buildTokenCases(issuer, now, attackerJwksUrl);
      table = { now, rows: new Map(rows.map((row) => [row.reason, row])) };
    }
    return table.rows;
  };
  const issuedAudience = JSON.stringify(claimsOf(issuer.mintAccessToken())?.['aud']);
  const revoked = new Set(revocationFixtures(0).map(({ value }) => `${value.kind}.${value.id}`));
  const holdsForAnyApp = (row: TokenCase): boolean => {
    const claims = claimsOf(row.authorization()?.replace(/^Bearer /, ''));
    if (claims === undefined) return true;
    const { jti, sid, sub, aud } = claims;
    if (revoked.has(`jti.${jti}`) || revoked.has(`sid.${sid}`) || revoked.has(`sub.${sub}`)) return false;
    return !isWellFormedAudience(aud) || JSON.stringify(aud) === issuedAudience;
  };
  return [...rowsNow().values()]
    .filter((row) => row.verdict === 'refuse' && holdsForAnyApp(row))
    .map(({ reason }) => ({ reason, authorization: () => rowsNow().get(reason)?.authorization() }));
}

/** A token signed by a key the app does not trust, otherwise valid: the simplest forgery. */
export function mintForeignToken(issuer: TestIssuer): string {
  const stranger = createTestIssuer({ issuer: issuer.issuer });
  return stranger.mintAccessToken({ header: { kid: issuer.kid }, claims: audienceClaim(issuer) });
}

function audienceClaim(issuer: TestIssuer): Record<string, unknown> {
  return { aud: claimsOf(issuer.mintAccessToken())?.['aud'] };
}

function claimsOf(token: string | undefined): Record<string, unknown> | undefined {
  const payload = token?.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isWellFormedAudience(aud: unknown): boolean {
  if (typeof aud === 'string') return true;
  return Array.isArray(aud) && aud.length > 0 && aud.every((item) => typeof item === 'string');
}

/** A NATS message your app sent, as a {@link NatsResponder} received it. */
export interface ReceivedNatsMessage {
  subject: string;
  /** Its NATS headers, by the names they were sent with (`authorization`, `traceparent`, `x-request-id`…). */
  headers: Record<string, string>;
  /** The `data` of Nest's `{pattern, data, id}` packet. */
  data: unknown;
}

/** A stand-in for another service on NATS: records what it receives and answers like a Nest handler. */
export interface NatsResponder {
  readonly received: readonly ReceivedNatsMessage[];
  stop(): Promise<void>;
}

/**
 * Answers Nest requests on `subject` (wildcards allowed) through `client`'s connection with
 * `answer(message)` as the handler's result, recording each message with its headers: what a spec
 * needs to check that an outgoing call carries the caller's token, `traceparent` and `x-request-id`.
 */
export async function respondOnNats(
  client: NatsTestClient,
  subject: string,
  answer: (message: ReceivedNatsMessage) => unknown = () => ({ ok: true }),
): Promise<NatsResponder> {
  const received: ReceivedNatsMessage[] = [];
  const subscription: Subscription = client.connection.subscribe(subject, {
    callback: (error, message) => {
      if (error !== null) return;
      const packet = decodePacket(message);
      const record = { subject: message.subject, headers: headersOf(message), data: packet.data };
      received.push(record);
      const reply = { id: packet.id ?? randomUUID(), response: answer(record), isDisposed: true };
      if (message.reply !== undefined) message.respond(new TextEncoder().encode(JSON.stringify(reply)));
    },
  });
  await client.connection.flush();
  return {
    received,
    stop: async () => {
      subscription.unsubscribe();
      await client.connection.flush();
    },
  };
}

function decodePacket(message: Msg): { id?: string; data?: unknown } {
  try {
    return JSON.parse(new TextDecoder().decode(message.data)) as { id?: string; data?: unknown };
  } catch {
    return {};
  }
}

function headersOf(message: Msg): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of message.headers?.keys() ?? []) headers[name] = message.headers?.get(name) ?? '';
  return headers;
}
