import { LoginAttempts } from './login-attempts';

const limits = {
  accountAndAddress: { maxFailures: 3, windowMs: 60_000 },
  account: { maxFailures: 5, windowMs: 60_000 },
  address: { maxFailures: 5, windowMs: 60_000 },
};

describe(LoginAttempts.name, () => {
  let now: number;
  let attempts: LoginAttempts;

  beforeEach(() => {
    now = 1_000_000;
    attempts = new LoginAttempts(limits, () => now);
  });

  it('allows logins until the account fails maxFailures times from one address', () => {
    attempts.recordFailure('a@x', '10.0.0.1');
    attempts.recordFailure('a@x', '10.0.0.1');
    expect(attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);

    attempts.recordFailure('a@x', '10.0.0.1');

    expect(attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(60);
  });

  it('counts down Retry-After and lets the window slide', () => {
    for (let i = 0; i < 3; i += 1) attempts.recordFailure('a@x', '10.0.0.1');
    now += 45_000;
    expect(attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(15);

    now += 15_001;

    expect(attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);
  });

  it('limits one address trying many accounts', () => {
    for (let i = 0; i < 5; i += 1) attempts.recordFailure(`user${i}@x`, '10.0.0.1');

    expect(attempts.retryAfterSeconds('fresh@x', '10.0.0.1')).toBeGreaterThan(0);
    expect(attempts.retryAfterSeconds('fresh@x', '10.0.0.2')).toBe(0);
  });

  it('limits one account attacked from many addresses', () => {
    for (let i = 0; i < 5; i += 1) attempts.recordFailure('a@x', `10.0.0.${i}`);

    expect(attempts.retryAfterSeconds('a@x', '10.0.9.9')).toBeGreaterThan(0);
  });

  it('clears the account counters after a successful login', () => {
    attempts.recordFailure('a@x', '10.0.0.1');
    attempts.recordFailure('a@x', '10.0.0.1');
    attempts.recordSuccess('a@x', '10.0.0.1');
    attempts.recordFailure('a@x', '10.0.0.1');
    attempts.recordFailure('a@x', '10.0.0.1');

    expect(attempts.retryAfterSeconds('a@x', '10.0.0.1')).toBe(0);
  });
});
