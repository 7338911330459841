import { validateShutdownConfig } from './shutdown.config';

describe('validateShutdownConfig', () => {
  it('defaults to no grace and a 6.5 s drain bound', () => {
    expect(validateShutdownConfig({})).toMatchObject({ SHUTDOWN_GRACE_MS: 0, SHUTDOWN_TIMEOUT_MS: 6500 });
  });

  it('reads both from the environment', () => {
    expect(validateShutdownConfig({ SHUTDOWN_GRACE_MS: '5000', SHUTDOWN_TIMEOUT_MS: '20000' })).toMatchObject(
      {
        SHUTDOWN_GRACE_MS: 5000,
        SHUTDOWN_TIMEOUT_MS: 20000,
      },
    );
  });

  it.each([
    [{ SHUTDOWN_GRACE_MS: '-1' }, 'SHUTDOWN_GRACE_MS must be an integer between 0 and 120000'],
    [{ SHUTDOWN_GRACE_MS: 'soon' }, 'SHUTDOWN_GRACE_MS must be an integer between 0 and 120000'],
    [{ SHUTDOWN_TIMEOUT_MS: '0' }, 'SHUTDOWN_TIMEOUT_MS must be an integer between 1 and 120000'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => validateShutdownConfig(env)).toThrow(message);
  });
});
