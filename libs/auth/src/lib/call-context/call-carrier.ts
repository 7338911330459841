import type { ExecutionContext } from '@nestjs/common';

import type { Principal } from '../access-token/access-token';
import { AuthError } from '../errors/auth.error';
import { isNatsContext, readNatsHeader } from '../nats/nats-headers';

/** One incoming call, whatever its transport: a stable object to attach to and its headers. */
export interface CallCarrier {
  /** The HTTP request, or the NATS context, of this call. */
  readonly target: object;
  header(name: string): string | string[] | undefined;
}

interface Authenticated {
  token: string;
  principal: Principal;
}

const authenticated = new WeakMap<object, Authenticated>();

/** The carrier of an HTTP request or NATS message; other transports are refused. */
export function callCarrier(context: ExecutionContext): CallCarrier {
  switch (context.getType<'http' | 'rpc' | 'ws'>()) {
    case 'http': {
      const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
      return { target: request, header: (name) => request.headers[name.toLowerCase()] };
    }
    case 'rpc': {
      const rpcContext: unknown = context.switchToRpc().getContext();
      if (!isNatsContext(rpcContext) || typeof rpcContext !== 'object' || rpcContext === null) break;
      return { target: rpcContext, header: (name) => readNatsHeader(rpcContext, name) };
    }
    case 'ws':
      break;
  }
  throw new AuthError('invalid_token', 'Unsupported transport');
}

/** Records the verified token of a call (done by `AccessTokenGuard`). */
export function attachAuthentication(target: object, value: Authenticated): void {
  authenticated.set(target, value);
}

/** The verified token and principal of a call, when `AccessTokenGuard` accepted one. */
export function readAuthentication(target: object): Authenticated | undefined {
  return authenticated.get(target);
}
