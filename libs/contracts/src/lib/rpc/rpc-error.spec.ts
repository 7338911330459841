import { isRpcError } from './rpc-error';

describe(isRpcError.name, () => {
  it('recognises an error reply with a numeric status', () => {
    expect(isRpcError({ status: 409, reason: 'insufficient_stock' })).toBe(true);
  });

  it.each([
    null,
    undefined,
    'error',
    { status: '401' },
    { message: 'Internal server error' },
    // not an HTTP error status: a peer could otherwise add any label value to the metrics
    { status: 200 },
    { status: 123456 },
    { status: 404.5 },
    { status: Number.NaN },
  ])('refuses %p', (value) => {
    expect(isRpcError(value)).toBe(false);
  });
});
