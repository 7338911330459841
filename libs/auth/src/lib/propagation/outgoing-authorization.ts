import { Inject, Injectable, Logger } from '@nestjs/common';

import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import {
  type AuthModuleOptions,
  epochMsClock,
  type PropagationMode,
  resolveAuthOptions,
  type ResolvedAuthOptions,
} from '../auth-module-options';
import { BoundedCache } from '../cache/bounded-cache';
import { CallContext } from '../call-context/call-context';
import { warnIfClearText } from '../http/clear-text';
import {
  ACCESS_TOKEN_TYPE,
  type ObtainedToken,
  requestToken,
  TOKEN_EXCHANGE_GRANT,
  type TokenEndpointOptions,
} from './token-endpoint';

/** Who an outgoing call goes to, and (optionally) how it authenticates. */
export interface OutgoingCallTarget {
  /** The callee's audience (`aud` of an exchanged or service token). */
  audience?: string;
  /** Overrides the module's `propagation` for this call. */
  propagation?: PropagationMode;
}

const EXCHANGED_TOKEN_CACHE_SIZE = 1000;
const SERVICE_TOKEN_CACHE_SIZE = 64;
// a cached token is dropped this long before it expires, so it never dies in flight
const EXPIRY_MARGIN_MS = 30_000;

/**
 * The `authorization` value an outgoing call carries, per `AuthModuleOptions.propagation`:
 * the caller's token (`forward`), an RFC 8693 exchanged token for the callee (`exchange`), or the
 * service's own client_credentials token (`service`). Used by `RelayNatsClient` and `RelayHttpClient`.
 */
@Injectable()
export class OutgoingAuthorization {
  private readonly options: ResolvedAuthOptions;
  private readonly cache = {
    exchange: new BoundedCache<string, string>(EXCHANGED_TOKEN_CACHE_SIZE),
    service: new BoundedCache<string, string>(SERVICE_TOKEN_CACHE_SIZE),
  };
  private readonly pending = new Map<string, Promise<string>>();
  private readonly nowMs: () => number;

  constructor(@Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions) {
    this.options = resolveAuthOptions(options);
    this.nowMs = epochMsClock(this.options.clock);
    if (this.options.propagation !== 'forward') this.endpoint(this.options.propagation);
    if (this.options.clientId !== undefined || this.options.propagation !== 'forward') {
      warnIfClearText(
        new Logger(OutgoingAuthorization.name),
        this.options.tokenEndpoint,
        "The client secret and callers' tokens go to the token endpoint",
      );
    }
  }

  /** The module's default propagation mode. */
  get mode(): PropagationMode {
    return this.options.propagation;
  }

  /**
   * `Bearer <token>` for one outgoing call, or `undefined` when there is nothing to send (no caller
   * token in `forward`/`exchange` mode). Rejects with `UnauthorizedException` when the issuer refuses
   * to exchange the caller's token (`invalid_grant`; never falls back to forwarding), and with
   * `ServiceUnavailableException` for any other refusal or failure of the issuer (this service's own
   * client refused, a throttle, a 5xx, no answer).
   */
  async authorization(target: OutgoingCallTarget = {}): Promise<string | undefined> {
    const mode = target.propagation ?? this.options.propagation;
    const callerToken = CallContext.current()?.token;
    switch (mode) {
      case 'forward':
        return callerToken === undefined ? undefined : `Bearer ${callerToken}`;
      case 'exchange':
        return callerToken === undefined
          ? undefined
          : `Bearer ${await this.exchange(callerToken, target.audience)}`;
      case 'service':
        return `Bearer ${await this.serviceToken(target.audience)}`;
    }
  }

  /**
   * The callee refused `authorization` (401/403), which `authorization(target)` gave: an exchanged or
   * service token cached for that target is dropped, so the next call fetches a new one instead of
   * being refused until the token's expiry (a scope granted since, a key rotated, a session ended).
   */
  refused(target: OutgoingCallTarget, authorization: string): void {
    const mode = target.propagation ?? this.options.propagation;
    if (mode === 'forward') return;
    const key = cacheKey(mode, target.audience, CallContext.current()?.token);
    if (`Bearer ${this.cache[mode].get(key, this.nowMs) ?? ''}` === authorization) {
      this.cache[mode].delete(key);
    }
  }

  /** The module's `rpcTimeoutMs`: how long an outgoing call waits by default. */
  get timeoutMs(): number {
    return this.options.rpcTimeoutMs;
  }

  /** The caller's token exchanged for one with `aud` = `audience`, cached per (token, audience). */
  private exchange(subjectToken: string, audience: string | undefined): Promise<string> {
    if (audience === undefined || audience === '') {
      throw new Error('Token exchange needs the callee audience: pass `audience` with the call');
    }
    const params = {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience,
    };
    return this.cached('exchange', cacheKey('exchange', audience, subjectToken), params);
  }

  private serviceToken(audience: string | undefined): Promise<string> {
    const params: Record<string, string> = { grant_type: 'client_credentials' };
    if (audience !== undefined && audience !== '') params['audience'] = audience;
    return this.cached('service', cacheKey('service', audience, undefined), params);
  }

  private async cached(
    kind: 'exchange' | 'service',
    key: string,
    params: Record<string, string>,
  ): Promise<string> {
    const hit = this.cache[kind].get(key, this.nowMs);
    if (hit !== undefined) return hit;
    const pendingKey = `${kind} ${key}`;
    const running = this.pending.get(pendingKey);
    if (running !== undefined) return running;
    // in the trace of the call that asked first; later callers share its answer
    const request = requestToken(this.endpoint(kind), params, CallContext.traceHeaders())
      .then((token) => this.remember(kind, key, token))
      .finally(() => this.pending.delete(pendingKey));
    this.pending.set(pendingKey, request);
    return request;
  }

  private remember(kind: 'exchange' | 'service', key: string, token: ObtainedToken): string {
    if (token.expiresInSeconds !== undefined) {
      const expiresAt = this.nowMs() + token.expiresInSeconds * 1000 - EXPIRY_MARGIN_MS;
      if (expiresAt > this.nowMs()) this.cache[kind].set(key, token.accessToken, expiresAt);
    }
    return token.accessToken;
  }

  private endpoint(mode: 'exchange' | 'service'): TokenEndpointOptions {
    const { clientId, clientSecret, tokenEndpoint, rpcTimeoutMs } = this.options;
    if (clientId === undefined || clientId === '' || clientSecret === undefined || clientSecret === '') {
      throw new Error(
        `AuthModule: propagation '${mode}' needs clientId and clientSecret (AUTH_CLIENT_ID, AUTH_CLIENT_SECRET)`,
      );
    }
    return { url: tokenEndpoint, clientId, clientSecret, timeoutMs: rpcTimeoutMs };
  }
}

/** The callee refused the call's token (401) or its rights (403): see {@link OutgoingAuthorization.refused}. */
export function isRefusal(status: number): boolean {
  return status === 401 || status === 403;
}

// an exchanged token is cached per (audience, caller's token), a service token per audience
function cacheKey(
  mode: 'exchange' | 'service',
  audience: string | undefined,
  callerToken: string | undefined,
): string {
  return mode === 'service' ? (audience ?? '') : `${audience ?? ''} ${callerToken ?? ''}`;
}
