import { describeError } from './describe-error';

describe(describeError.name, () => {
  it('gives a plain error its message alone', () => {
    expect(describeError(new Error('connection refused'))).toBe('connection refused');
  });

  it('names the kind of any other error', () => {
    expect(describeError(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
  });

  it('puts a code before the message', () => {
    const timedOut = Object.assign(new Error('Query read timeout'), { code: 'ETIMEDOUT' });
    expect(describeError(timedOut)).toBe('ETIMEDOUT: Query read timeout');
  });

  it('does not repeat a code the message names', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(describeError(refused)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    const natsRefused = { name: 'NatsError', code: 'CONNECTION_REFUSED', message: 'CONNECTION_REFUSED' };
    expect(describeError(natsRefused)).toBe('NatsError: CONNECTION_REFUSED');
  });

  it('reads an error from another realm or library by its shape', () => {
    const pgError = {
      name: 'error',
      code: '57P01',
      message: 'terminating connection due to administrator command',
    };
    expect(describeError(pgError)).toBe('57P01: terminating connection due to administrator command');
    const natsError = { name: 'NatsError', code: 'TIMEOUT', message: 'timeout' };
    expect(describeError(natsError)).toBe('NatsError: TIMEOUT: timeout');
  });

  it('ignores a code that is not a string', () => {
    expect(describeError(Object.assign(new Error('gone'), { code: 5 }))).toBe('gone');
  });

  it.each([
    ['a string', 'timed out', 'timed out'],
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['an object without a message', { reason: 'x' }, '[object Object]'],
  ])('gives %s as text', (_, value, text) => {
    expect(describeError(value)).toBe(text);
  });
});
