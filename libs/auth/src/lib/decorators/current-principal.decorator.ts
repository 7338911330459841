import { createParamDecorator } from '@nestjs/common';

import type { Principal } from '../access-token/access-token';
import { CallContext } from '../call-context/call-context';

/** Injects the verified caller (`Principal`) into an HTTP or NATS handler; `undefined` on public calls without a token. */
export const CurrentPrincipal = createParamDecorator(
  (): Principal | undefined => CallContext.current()?.principal,
);
