import { Injectable } from '@nestjs/common';

import { MessageHeaders } from '@relay/contracts';

import type { PropagationMode } from '../auth-module-options';
import { CallContext } from '../call-context/call-context';
import { withTimeout } from '../nats/with-timeout';
import { isRefusal, OutgoingAuthorization } from '../propagation/outgoing-authorization';

/** `fetch` options plus who the call goes to. */
export interface RelayFetchInit extends RequestInit {
  /** The callee's audience; required in `exchange` mode when the call has a caller token. */
  audience?: string;
  /** Overrides the module's `propagation` for this call (e.g. `'service'` for a startup job). */
  propagation?: PropagationMode;
  /**
   * Aborts the call (`TimeoutError`) once this many ms have passed without its response's end, the
   * token it may fetch first included. Default: the module's `rpcTimeoutMs` (3000). Beside `signal`.
   */
  timeoutMs?: number;
}

/**
 * `fetch` for downstream HTTP calls: adds `authorization` per the `propagation` mode (caller's token,
 * exchanged token, or service token), `traceparent` and `x-request-id` from the current `CallContext`,
 * and a deadline (`timeoutMs`: undici alone waits 300 s for headers, and for ever for a body that
 * trickles). Headers the caller set explicitly win. Rejects with `UnauthorizedException` when the
 * issuer refuses the exchange; the response itself is returned as `fetch` returns it, whatever its
 * status (a 401/403 to an exchanged or service token drops that token from the cache).
 */
@Injectable()
export class RelayHttpClient {
  constructor(private readonly outgoing: OutgoingAuthorization) {}

  async fetch(url: string | URL, init: RelayFetchInit = {}): Promise<Response> {
    const { audience, propagation, timeoutMs, headers: given, signal, ...rest } = init;
    const budgetMs = timeoutMs ?? this.outgoing.timeoutMs;
    const deadline = AbortSignal.timeout(budgetMs);
    const headers = new Headers(given);
    for (const [name, value] of Object.entries(CallContext.traceHeaders())) {
      if (!headers.has(name)) headers.set(name, value);
    }
    const target = {
      ...(audience === undefined ? {} : { audience }),
      ...(propagation === undefined ? {} : { propagation }),
    };
    let authorization: string | undefined;
    if (!headers.has(MessageHeaders.authorization)) {
      // the deadline's own reason, as fetch rejects with it
      authorization = await withTimeout(
        this.outgoing.authorization(target),
        budgetMs,
        () => new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      );
      if (authorization !== undefined) headers.set(MessageHeaders.authorization, authorization);
    }
    const response = await fetch(url, {
      ...rest,
      headers,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    if (authorization !== undefined && isRefusal(response.status)) {
      this.outgoing.refused(target, authorization);
    }
    return response;
  }
}
