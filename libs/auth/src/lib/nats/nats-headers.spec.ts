import { NatsContext } from '@nestjs/microservices';

import { isNatsContext, readNatsHeader, toMsgHdrs } from './nats-headers';

describe('nats-headers', () => {
  const context = (record?: Record<string, string>): NatsContext =>
    new NatsContext(['inventory.reserve', record === undefined ? undefined : toMsgHdrs(record)]);

  it('builds nats.js headers from a record, keeping names as given', () => {
    const headers = toMsgHdrs({ authorization: 'Bearer a.b.c', 'x-request-id': 'r-1' });

    expect(headers.get('authorization')).toBe('Bearer a.b.c');
    expect(headers.get('x-request-id')).toBe('r-1');
    expect([...headers.keys()].sort()).toEqual(['authorization', 'x-request-id']);
  });

  it('reads a header of the message behind a NATS context', () => {
    expect(readNatsHeader(context({ traceparent: 't' }), 'traceparent')).toBe('t');
  });

  it('answers undefined for an absent header, a message without headers, or another context', () => {
    expect(readNatsHeader(context({ traceparent: 't' }), 'authorization')).toBeUndefined();
    expect(readNatsHeader(context(), 'authorization')).toBeUndefined();
    expect(
      readNatsHeader({ getHeaders: () => toMsgHdrs({ authorization: 'Bearer x' }) }, 'authorization'),
    ).toBeUndefined();
    expect(readNatsHeader(undefined, 'authorization')).toBeUndefined();
  });

  it('recognises only NATS contexts', () => {
    expect(isNatsContext(context())).toBe(true);
    expect(isNatsContext({})).toBe(false);
    expect(isNatsContext(null)).toBe(false);
  });
});
