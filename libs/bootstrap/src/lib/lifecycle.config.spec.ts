import { validateLifecycleConfig } from './lifecycle.config';

describe('validateLifecycleConfig', () => {
  it('defaults to a 30 s wait for the servers at start, no grace and a 6.5 s drain bound', () => {
    expect(validateLifecycleConfig({})).toMatchObject({
      STARTUP_WAIT_MS: 30_000,
      SHUTDOWN_GRACE_MS: 0,
      SHUTDOWN_TIMEOUT_MS: 6500,
    });
  });

  it('reads each from the environment', () => {
    expect(
      validateLifecycleConfig({
        STARTUP_WAIT_MS: '0',
        SHUTDOWN_GRACE_MS: '5000',
        SHUTDOWN_TIMEOUT_MS: '20000',
      }),
    ).toMatchObject({
      STARTUP_WAIT_MS: 0,
      SHUTDOWN_GRACE_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 20000,
    });
  });

  it.each([
    [{ STARTUP_WAIT_MS: '-1' }, 'STARTUP_WAIT_MS must be an integer between 0 and 600000'],
    [{ STARTUP_WAIT_MS: '30s' }, 'STARTUP_WAIT_MS must be an integer between 0 and 600000'],
    [{ SHUTDOWN_GRACE_MS: '-1' }, 'SHUTDOWN_GRACE_MS must be an integer between 0 and 120000'],
    [{ SHUTDOWN_GRACE_MS: 'soon' }, 'SHUTDOWN_GRACE_MS must be an integer between 0 and 120000'],
    [{ SHUTDOWN_TIMEOUT_MS: '0' }, 'SHUTDOWN_TIMEOUT_MS must be an integer between 1 and 120000'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => validateLifecycleConfig(env)).toThrow(message);
  });
});
