import { isRpcError } from './rpc-error';

describe(isRpcError.name, () => {
  it('recognises an error reply with a numeric status', () => {
    expect(isRpcError({ status: 409, reason: 'insufficient_stock' })).toBe(true);
  });

  it.each([null, undefined, 'error', { status: '401' }, { message: 'Internal server error' }])(
    'refuses %p',
    (value) => {
      expect(isRpcError(value)).toBe(false);
    },
  );
});
