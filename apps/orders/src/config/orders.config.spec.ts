import { InvalidEnvironmentError } from '@relay/config';

import { validateOrdersConfig } from './orders.config';

describe('validateOrdersConfig', () => {
  it('defaults to forward propagation without client credentials', () => {
    const config = validateOrdersConfig({});

    expect(config.PROPAGATION_MODE).toBe('forward');
    expect(config.AUTH_CLIENT_ID).toBeUndefined();
    expect(config.ORDERS_RPC_TIMEOUT_MS).toBe(3000);
  });

  it('accepts exchange with both client credentials', () => {
    const config = validateOrdersConfig({
      PROPAGATION_MODE: 'exchange',
      AUTH_CLIENT_ID: 'orders',
      AUTH_CLIENT_SECRET: 's3cret',
    });

    expect(config).toMatchObject({ PROPAGATION_MODE: 'exchange', AUTH_CLIENT_ID: 'orders' });
  });

  it.each([
    [{ PROPAGATION_MODE: 'exchange' }, 'AUTH_CLIENT_ID is required'],
    [{ PROPAGATION_MODE: 'exchange', AUTH_CLIENT_ID: 'orders' }, 'AUTH_CLIENT_SECRET is required'],
    [{ AUTH_CLIENT_SECRET: 's3cret' }, 'AUTH_CLIENT_ID is required'],
    [{ AUTH_CLIENT_ID: 'orders' }, 'AUTH_CLIENT_SECRET is required'],
    [{ PROPAGATION_MODE: 'service' }, 'PROPAGATION_MODE must be forward or exchange'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => validateOrdersConfig(env)).toThrow(InvalidEnvironmentError);
    expect(() => validateOrdersConfig(env)).toThrow(message);
  });

  it('never echoes the client secret', () => {
    expect(() => validateOrdersConfig({ AUTH_CLIENT_SECRET: 's3cret' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cret') }),
    );
  });
});
