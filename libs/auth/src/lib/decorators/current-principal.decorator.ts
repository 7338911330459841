import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

import type { Principal } from '../access-token/access-token';
import { callCarrier, readAuthentication } from '../call-context/call-carrier';

/** Injects the verified caller (`Principal`) into an HTTP or NATS handler; `undefined` on public calls without a token. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined =>
    readAuthentication(callCarrier(context).target)?.principal,
);
