import { performance } from 'node:perf_hooks';

import {
  ForbiddenException,
  Inject,
  Injectable,
  type OnApplicationShutdown,
  UnauthorizedException,
} from '@nestjs/common';
import { ClientNats } from '@nestjs/microservices';
import { connect, ErrorCode, type MsgHdrs, type NatsConnection, NatsError } from 'nats';
import { SpanKind } from '@opentelemetry/api';

import { isRpcError, MessageHeaders } from '@relay/contracts';

import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import { type AuthModuleOptions, natsSettingsOf, type PropagationMode } from '../auth-module-options';
import { CallContext } from '../call-context/call-context';
import { startCallSpan } from '../call-context/trace-context';
import { endOutgoingCall } from '../telemetry/outgoing-call';
import { RpcCallError, RpcNotSentError, RpcTimeoutError } from '../errors/rpc-call.error';
import { calleeAudienceForSubject } from '../propagation/callee-audience';
import { isRefusal, OutgoingAuthorization } from '../propagation/outgoing-authorization';
import { type NatsConnectionSettings, natsConnectionOptions, revocationInboxPrefix } from './nats-connection';
import { toMsgHdrs } from './nats-headers';
import { withTimeout } from './with-timeout';

/** Per-call options of `RelayNatsClient.send()` / `emit()`. */
export interface RelayNatsCallOptions {
  /**
   * `send()` gives up this many ms after it was called, the token it may have to fetch first included.
   * Default: the module's `rpcTimeoutMs` (3000).
   */
  timeoutMs?: number;
  /** The callee's audience for `exchange`/`service` tokens. Default: from `calleeAudiences`, else the subject's first token. */
  audience?: string;
  /** Overrides the module's `propagation` for this call (e.g. `'service'` for a startup job). */
  propagation?: PropagationMode;
}

/**
 * NATS client speaking Nest's wire format; every message carries `traceparent` and `x-request-id`
 * from the current `CallContext`, and an `authorization` chosen by the `propagation` mode: the
 * caller's token, one exchanged for the callee's audience, or the service's own token.
 */
@Injectable()
export class RelayNatsClient implements OnApplicationShutdown {
  private readonly client: ClientNats;
  private readonly defaultTimeoutMs: number;
  private readonly calleeAudiences: Readonly<Record<string, string>>;
  private isClosed = false;
  private requestCount = 0;
  // connection attempts still running, so shutdown can close what they open after it
  private readonly attempts = new Set<Promise<NatsConnection>>();
  private readonly settings: NatsConnectionSettings;
  private revocations?: Promise<NatsConnection>;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    private readonly outgoing: OutgoingAuthorization,
  ) {
    this.defaultTimeoutMs = options.rpcTimeoutMs ?? 3000;
    this.calleeAudiences = options.calleeAudiences ?? {};
    this.settings = natsSettingsOf(options);
    this.client = new ClientNats(natsConnectionOptions(this.settings));
  }

  /**
   * Request/reply. Rejects with `UnauthorizedException` / `ForbiddenException` on err 401 / 403 to the
   * caller's token (and when the issuer refuses to exchange it), `RpcCallError` on any other err (a
   * 401 / 403 to the service's own token, in `service` mode, is its 503), `RpcTimeoutError` when no answer arrives in time, and `RpcNotSentError` (503) when
   * the request reached no handler: no service subscribes to `subject`, or it could not be sent.
   */
  async send<TResult>(subject: string, data: unknown, options: RelayNatsCallOptions = {}): Promise<TResult> {
    const result = await this.call(subject, options, SpanKind.CLIENT, async (connection, headers, msLeft) => {
      // nats.js request(): one reply subscription per connection (under this service's own inbox
      // prefix) instead of Nest's subscribe-and-unsubscribe per request, and a fast "no responders"
      const reply = await connection.request(subject, encodePacket(subject, data, this.nextId()), {
        timeout: msLeft,
        headers,
      });
      return decodeReply(reply.data);
    });
    return result as TResult;
  }

  /** Publishes an event (no reply); resolves once it is handed to the connection. */
  async emit(subject: string, data: unknown, options: RelayNatsCallOptions = {}): Promise<void> {
    await this.call(subject, options, SpanKind.PRODUCER, (connection, headers) => {
      connection.publish(subject, encodePacket(subject, data), { headers });
      return Promise.resolve(undefined);
    });
  }

  /** One NATS round trip (for `/health`); rejects when the server does not answer in time. */
  async ping(timeoutMs = this.defaultTimeoutMs): Promise<void> {
    await withTimeout(
      this.connection().then((connection) => connection.rtt()),
      timeoutMs,
      'NATS ping',
    );
  }

  /** The underlying nats.js connection (connects on first use); rejects once the client is closed. */
  async connection(): Promise<NatsConnection> {
    this.assertOpen();
    const attempt = this.client.connect() as Promise<NatsConnection>;
    this.attempts.add(attempt);
    try {
      const connection = await attempt;
      this.assertOpen();
      return connection;
    } finally {
      this.attempts.delete(attempt);
    }
  }

  /**
   * The connection the revocation feed watches the bucket on (connects on first use; again after a
   * failed connect or once it closed), apart from the one calls use: its inboxes are under
   * `<inbox prefix>.revocations.<random>` (see `revocationInboxPrefix`), where no callee may answer in
   * JetStream's place, nor a reader point a consumer.
   */
  async revocationConnection(): Promise<NatsConnection> {
    this.assertOpen();
    if (this.revocations === undefined) {
      const attempt = connect(
        natsConnectionOptions({ ...this.settings, inboxPrefix: revocationInboxPrefix(this.settings) }),
      );
      this.revocations = attempt;
      const forget = (): void => {
        if (this.revocations === attempt) this.revocations = undefined;
      };
      // a failed connect, or a connection closed for good: the next call connects again
      void attempt.then((connection) => connection.closed()).then(forget, forget);
    }
    const connection = await this.revocations;
    this.assertOpen();
    return connection;
  }

  /** Closes the connections for good (application shutdown): no call, ping or retry connects again. */
  async onApplicationShutdown(): Promise<void> {
    this.isClosed = true;
    // ClientNats.close() cannot cancel a connect in flight (nor can nats.js): close what it opens
    // once it settles, without holding up shutdown for the connect timeout
    for (const attempt of [...this.attempts, this.revocations]) {
      void attempt?.then(
        (connection) => connection.close(),
        () => undefined,
      );
    }
    await this.client.close();
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error('RelayNatsClient is closed (application shutdown)');
  }

  private nextId(): string {
    this.requestCount += 1;
    return this.requestCount.toString(36);
  }

  private async call(
    subject: string,
    options: RelayNatsCallOptions,
    kind: SpanKind,
    exchange: (connection: NatsConnection, headers: MsgHdrs, msLeft: number) => Promise<unknown>,
  ): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const startedAt = performance.now();
    const callSpan = startCallSpan(subject, kind, CallContext.otelContext(), {
      'messaging.system': 'nats',
      'messaging.destination.name': subject,
      'messaging.operation.type': kind === SpanKind.PRODUCER ? 'send' : 'request',
    });
    const headers = CallContext.traceHeaders(callSpan);
    const propagation = options.propagation ?? this.outgoing.mode;
    let status = 200;
    let isSent = false;
    // one deadline for the whole call: a token exchange or a connect takes its share of it (the token
    // endpoint's own limit is the module's rpcTimeoutMs, and a first connect to a server that does not
    // answer would otherwise take nats.js's 20 s dial timeout)
    const msLeft = (): number => Math.floor(startedAt + timeoutMs - performance.now());
    const timedOut = (): Error => NatsError.errorForCode(ErrorCode.Timeout);
    const target = {
      audience: options.audience ?? calleeAudienceForSubject(subject, this.calleeAudiences),
      propagation,
    };
    let authorization: string | undefined;
    try {
      authorization = await withTimeout(this.outgoing.authorization(target), msLeft(), timedOut);
      if (authorization !== undefined) headers[MessageHeaders.authorization] = authorization;
      const connection = await withTimeout(this.connection(), msLeft(), timedOut);
      // the deadline passed before the message could go (a slow token exchange): as if nats.js timed out
      const msToGo = msLeft();
      if (msToGo <= 0) throw timedOut();
      isSent = true;
      return await exchange(connection, toMsgHdrs(headers), msToGo);
    } catch (error) {
      if (isSent && authorization !== undefined && isRpcError(error) && isRefusal(error.status)) {
        this.outgoing.refused(target, authorization);
      }
      const failure = isSent
        ? mapRpcFailure(error, subject, timeoutMs, propagation)
        : notSentFailure(mapRpcFailure(error, subject, timeoutMs, propagation), subject);
      status = statusOfFailure(failure);
      throw failure;
    } finally {
      endOutgoingCall(callSpan, { subject, status, durationMs: performance.now() - startedAt });
    }
  }
}

// Nest's NATS wire format: a request is `{pattern, data, id}` JSON on the pattern's subject (an event
// has no id), the reply `{id, response}` or `{id, err}` (with `isDisposed`, one message per answer)
function encodePacket(subject: string, data: unknown, id?: string): Uint8Array {
  return textEncoder.encode(
    JSON.stringify(id === undefined ? { pattern: subject, data } : { pattern: subject, data, id }),
  );
}

function decodeReply(data: Uint8Array): unknown {
  const packet = JSON.parse(textDecoder.decode(data)) as { err?: unknown; response?: unknown };
  if (packet.err !== undefined && packet.err !== null) throw packet.err;
  return packet.response;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function statusOfFailure(failure: Error): number {
  if (failure instanceof RpcTimeoutError) return 504;
  if (failure instanceof RpcCallError) return failure.status;
  if (failure instanceof UnauthorizedException || failure instanceof ForbiddenException) {
    return failure.getStatus();
  }
  return 500;
}

function mapRpcFailure(
  error: unknown,
  subject: string,
  timeoutMs: number,
  propagation: PropagationMode,
): Error {
  if (error instanceof NatsError && error.code === ErrorCode.Timeout) {
    return new RpcTimeoutError(subject, timeoutMs);
  }
  if (error instanceof NatsError && error.code === ErrorCode.NoResponders) {
    return new RpcNotSentError(`NATS request on ${subject}: no service answers it`);
  }
  if (isRpcError(error)) {
    const isTokenRefused = isRefusal(error.status);
    // this service's own token refused: a fault of the deployment (a scope or client the issuer does
    // not grant it), never to be answered to the caller as a bad token or a lack of rights of theirs
    if (isTokenRefused && propagation === 'service') {
      return new RpcCallError(
        503,
        undefined,
        `NATS request on ${subject}: the service's own token was refused (${error.status}: ${error.message ?? 'no reason given'})`,
      );
    }
    if (error.status === 401) return new UnauthorizedException(error.message ?? 'Unauthorized');
    if (error.status === 403) return new ForbiddenException(error.message ?? 'Forbidden');
    return new RpcCallError(error.status, error.reason, error.message);
  }
  const message = error instanceof Error ? error.message : messageOf(error);
  return new RpcCallError(503, undefined, `NATS request on ${subject} failed: ${message}`);
}

// a call that failed before its message went: nothing was done on its behalf. The caller's token
// refused on the way (a token exchange's invalid_grant) stays the caller's 401 / 403
function notSentFailure(failure: Error, subject: string): Error {
  if (failure instanceof UnauthorizedException || failure instanceof ForbiddenException) return failure;
  if (failure instanceof RpcNotSentError) return failure;
  return new RpcNotSentError(`NATS request on ${subject} was not sent: ${failure.message}`);
}

function messageOf(error: unknown): string {
  // Nest answers a subject without a handler with a bare string err
  if (typeof error === 'string') return error;
  const message =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : 'unknown error';
}
