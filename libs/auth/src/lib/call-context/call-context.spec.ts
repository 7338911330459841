import { trace } from '@opentelemetry/api';

import type { Principal } from '../access-token/access-token';
import { CallContext, recordCaller } from './call-context';

const principal = { subject: 'user-1' } as Principal;

describe('CallContext', () => {
  it('records the verified caller on the running call only', () => {
    const seen = CallContext.run({ requestId: 'req-1' }, () => {
      recordCaller('a.b.c', principal);
      return CallContext.current();
    });

    expect(seen).toEqual(expect.objectContaining({ token: 'a.b.c', principal, requestId: 'req-1' }));
    expect(CallContext.current()).toBeUndefined();
  });

  it('refuses to record a caller outside a call context, saying how to wire one', () => {
    expect(() => recordCaller('a.b.c', principal)).toThrow(
      /without a call context.*Fastify or Express adapter.*natsMicroserviceOptions/,
    );
  });

  // a retry loop or a refresh a call sets going outlives it and serves others
  it('runs detached work, and what it sets going, outside the call that started it', async () => {
    const later = await CallContext.run({ requestId: 'req-2', token: 'a.b.c' }, () =>
      CallContext.detached(async () => {
        const atOnce = CallContext.current();
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { atOnce, afterAwait: CallContext.current(), span: trace.getActiveSpan() };
      }),
    );

    expect(later).toEqual({ atOnce: undefined, afterAwait: undefined, span: undefined });
  });
});
