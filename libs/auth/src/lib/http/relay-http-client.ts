import { Injectable } from '@nestjs/common';

import { MessageHeaders } from '@relay/contracts';

import type { PropagationMode } from '../auth-module-options';
import { CallContext } from '../call-context/call-context';
import { OutgoingAuthorization } from '../propagation/outgoing-authorization';

/** `fetch` options plus who the call goes to. */
export interface RelayFetchInit extends RequestInit {
  /** The callee's audience; required in `exchange` mode when the call has a caller token. */
  audience?: string;
  /** Overrides the module's `propagation` for this call (e.g. `'service'` for a startup job). */
  propagation?: PropagationMode;
}

/**
 * `fetch` for downstream HTTP calls: adds `authorization` per the `propagation` mode (caller's token,
 * exchanged token, or service token), `traceparent` and `x-request-id` from the current `CallContext`.
 * Headers the caller set explicitly win. Rejects with `UnauthorizedException` when the issuer refuses
 * the exchange; the response itself is returned as `fetch` returns it, whatever its status.
 */
@Injectable()
export class RelayHttpClient {
  constructor(private readonly outgoing: OutgoingAuthorization) {}

  async fetch(url: string | URL, init: RelayFetchInit = {}): Promise<Response> {
    const { audience, propagation, headers: given, ...rest } = init;
    const headers = new Headers(given);
    for (const [name, value] of Object.entries(CallContext.traceHeaders())) {
      if (!headers.has(name)) headers.set(name, value);
    }
    if (!headers.has(MessageHeaders.authorization)) {
      const authorization = await this.outgoing.authorization({
        ...(audience === undefined ? {} : { audience }),
        ...(propagation === undefined ? {} : { propagation }),
      });
      if (authorization !== undefined) headers.set(MessageHeaders.authorization, authorization);
    }
    return fetch(url, { ...rest, headers });
  }
}
