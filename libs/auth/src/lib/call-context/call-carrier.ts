import type { ExecutionContext } from '@nestjs/common';

import { AuthError } from '../errors/auth.error';
import { isNatsContext, readNatsHeader } from '../nats/nats-headers';

/**
 * A header of the incoming HTTP request or NATS message (`name` in lower case); other transports are
 * refused. Reads the handler arguments directly (HTTP: `[request, reply]`, RPC: `[data, context]`),
 * so nothing is allocated per call.
 */
export function readCallHeader(context: ExecutionContext, name: string): string | string[] | undefined {
  switch (context.getType<'http' | 'rpc' | 'ws'>()) {
    case 'http':
      return context.getArgByIndex<{ headers: Record<string, string | string[] | undefined> }>(0).headers[
        name
      ];
    case 'rpc': {
      const rpcContext: unknown = context.getArgByIndex(1);
      if (isNatsContext(rpcContext)) return readNatsHeader(rpcContext, name);
      break;
    }
    case 'ws':
      break;
  }
  throw new AuthError('invalid_token', 'Unsupported transport');
}
