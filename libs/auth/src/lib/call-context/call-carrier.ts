import type { ExecutionContext } from '@nestjs/common';

import { AuthError } from '../errors/auth.error';
import { type HeaderBearingRequest, readRequestHeader } from '../http/request-header';
import { isNatsContext, readNatsHeaderValues } from '../nats/nats-headers';

/**
 * A header of the incoming HTTP request or NATS message (`name` in lower case), every value when the
 * call carries it more than once; other transports are refused. Reads the handler arguments directly
 * (HTTP: `[request, reply]`, RPC: `[data, context]`), so nothing is allocated per call.
 */
export function readCallHeader(context: ExecutionContext, name: string): string | string[] | undefined {
  switch (context.getType<'http' | 'rpc' | 'ws'>()) {
    case 'http':
      return readRequestHeader(context.getArgByIndex<HeaderBearingRequest>(0), name);
    case 'rpc': {
      const rpcContext: unknown = context.getArgByIndex(1);
      if (isNatsContext(rpcContext)) return readNatsHeaderValues(rpcContext, name);
      break;
    }
    case 'ws':
      break;
  }
  throw new AuthError('invalid_token', 'Unsupported transport');
}
