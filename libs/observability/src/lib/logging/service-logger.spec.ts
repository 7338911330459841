import { CallContext } from '@relay/auth';

import { LogCapture } from './log-capture';
import { REDACTED, REDACTED_FIELDS } from './redaction';
import { createServiceLogger, pinoLevel } from './service-logger';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function capturedLogger(options: Partial<Parameters<typeof createServiceLogger>[0]> = {}): {
  logger: ReturnType<typeof createServiceLogger>;
  capture: LogCapture;
} {
  const capture = new LogCapture();
  return { logger: createServiceLogger({ service: 'orders', destination: capture, ...options }), capture };
}

describe(createServiceLogger.name, () => {
  it('writes one JSON object a line: level by name, ISO time, service, msg', () => {
    const { logger, capture } = capturedLogger();

    logger.info({ order_id: 'o-1' }, 'Order placed');
    logger.warn('Careful');

    const [info, warn] = capture.lines();
    expect(capture.raw.split('\n')).toHaveLength(3);
    expect(info).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'orders',
      order_id: 'o-1',
      msg: 'Order placed',
    });
    expect(warn).toMatchObject({ level: 'warn', service: 'orders', msg: 'Careful' });
  });

  it('writes nothing below LOG_LEVEL, and maps verbose to trace', () => {
    const { logger, capture } = capturedLogger({ level: 'warn' });

    logger.info('hidden');
    logger.error('shown');

    expect(capture.lines().map((line) => line['msg'])).toEqual(['shown']);
    expect(pinoLevel('verbose')).toBe('trace');
    expect(pinoLevel('info')).toBe('info');
  });

  it('adds the running call’s trace id, span id and request id, and none outside a call', () => {
    const { logger, capture } = capturedLogger();

    CallContext.run({ traceparent: TRACEPARENT, requestId: 'req-42', name: 'job' }, () => {
      logger.info('inside');
    });
    logger.info('outside');

    const [inside, outside] = capture.lines();
    const call = { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', request_id: 'req-42' };
    expect(inside).toMatchObject({ ...call, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(inside).not.toHaveProperty('sub');
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('request_id');
  });

  it('adds sub and client_id of a verified caller', () => {
    const { logger, capture } = capturedLogger();
    const principal = {
      subject: 'user-7',
      clientId: 'web',
      roles: [],
      scopes: [],
      tokenId: 'jti-1',
      audience: ['orders'],
      issuedAt: 0,
      expiresAt: 0,
    };

    CallContext.run({ principal, token: 'the-token', name: 'job' }, () => {
      logger.info('as the caller');
    });

    expect(capture.lines()[0]).toMatchObject({ sub: 'user-7', client_id: 'web' });
    expect(capture.raw).not.toContain('the-token');
  });

  describe('redaction', () => {
    const secret = (field: string): string => `secret-of-${field}-${'x'.repeat(8)}`;

    it.each([0, 1, 2, 3, 6])('replaces every secret field at depth %i', (depth) => {
      const { logger, capture } = capturedLogger();
      const secrets = Object.fromEntries(REDACTED_FIELDS.map((field) => [field, secret(field)]));
      let logged: Record<string, unknown> = secrets;
      for (let level = 0; level < depth; level += 1) logged = { [`nested${level}`]: logged };

      logger.info(logged, 'with secrets');

      for (const field of REDACTED_FIELDS) expect(capture.raw).not.toContain(secret(field));
      let line = capture.lines()[0];
      for (let level = depth - 1; level >= 0; level -= 1) {
        line = line[`nested${level}`] as Record<string, unknown>;
      }
      for (const field of REDACTED_FIELDS) expect(line[field]).toBe(REDACTED);
    });

    it('replaces what lies deeper than it walks, and leaves the logged objects as they were', () => {
      const { logger, capture } = capturedLogger();
      let deep: Record<string, unknown> = { token: 'deep-secret-token-value' };
      for (let level = 0; level < 12; level += 1) deep = { nested: deep };
      const headers = { authorization: 'Bearer eyJ.kept.sig' };

      logger.info({ deep, req: { headers } }, 'deep');

      expect(capture.raw).not.toContain('deep-secret-token-value');
      expect(headers.authorization).toBe('Bearer eyJ.kept.sig');
    });

    // Nest's own exception filter logs an unexpected error whole: a failed statement's values stay out
    it('keeps the values of a failed statement out of a logged database error', () => {
      const { logger, capture } = capturedLogger();
      const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';
      const failed = Object.assign(new Error('null value in column "roles" violates not-null constraint'), {
        code: '23502',
        params: ['u-1', 'erin@example.com', hash],
        detail: `Failing row contains (u-1, erin@example.com, ${hash}, null).`,
      });

      logger.error({ err: failed }, 'request failed');

      expect(capture.raw).not.toContain('argon2id');
      expect(capture.raw).not.toContain('erin@example.com');
      expect(capture.lines()[0]['err']).toMatchObject({
        code: '23502',
        message: expect.stringContaining('not-null'),
      });
    });

    it('keeps request headers other than credentials', () => {
      const { logger, capture } = capturedLogger();

      logger.warn(
        {
          req: {
            headers: { authorization: 'Bearer eyJ.secret.sig', 'x-request-id': 'r-1', cookie: 'sid=1' },
          },
        },
        'odd request',
      );

      expect(capture.lines()[0]['req']).toEqual({
        headers: { authorization: REDACTED, 'x-request-id': 'r-1', cookie: REDACTED },
      });
    });

    it('redacts a credential header’s value in a raw header list (name, value, …)', () => {
      const { logger, capture } = capturedLogger();
      const rawHeaders = ['Host', 'orders', 'Authorization', 'Bearer eyJ.raw.sig', 'X-Api-Key', 'k-123'];

      logger.warn({ req: { rawHeaders } }, 'odd request');

      expect(capture.lines()[0]['req']).toEqual({
        rawHeaders: ['Host', 'orders', 'Authorization', REDACTED, 'X-Api-Key', REDACTED],
      });
      expect(rawHeaders[3]).toBe('Bearer eyJ.raw.sig');
    });

    it('redacts an error’s secret properties', () => {
      const { logger, capture } = capturedLogger();
      const error = Object.assign(new Error('token endpoint refused'), {
        config: { headers: { authorization: 'Basic b3JkZXJzOnNlY3JldA==' } },
        client_secret: 'shh-its-a-secret',
      });

      logger.error({ err: error }, 'exchange failed');

      expect(capture.raw).not.toContain('b3JkZXJzOnNlY3JldA==');
      expect(capture.raw).not.toContain('shh-its-a-secret');
      expect(capture.lines()[0]['err']).toMatchObject({ message: 'token endpoint refused', type: 'Error' });
    });

    // pino prints an AggregateError's errors (`aggregateErrors`), which are not enumerable on it
    it('redacts the errors an AggregateError holds', () => {
      const { logger, capture } = capturedLogger();
      const inner = Object.assign(new Error('refused'), {
        config: { headers: { authorization: 'Bearer eyJ.inner.sig' } },
      });
      const error = new AggregateError([inner, new Error('plain')], 'every attempt failed');

      logger.error({ err: error }, 'exchange failed');

      expect(capture.raw).not.toContain('eyJ.inner.sig');
      expect(capture.lines()[0]['err']).toMatchObject({
        type: 'AggregateError',
        message: 'every attempt failed',
        aggregateErrors: [{ message: 'refused' }, { message: 'plain' }],
      });
      expect(inner.config.headers.authorization).toBe('Bearer eyJ.inner.sig');
    });
  });

  it('writes readable single lines, secrets redacted, with LOG_FORMAT=pretty', async () => {
    const { logger, capture } = capturedLogger({ format: 'pretty' });

    logger.info({ context: 'Orders', password: 'hunter2-hunter2', order_id: 'o-1' }, 'Order placed');
    // pino-pretty passes its lines on to a stream destination on the next turns of the event loop
    await new Promise((done) => setImmediate(done));

    const lines = capture.raw.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(() => JSON.parse(lines[0]) as unknown).toThrow();
    expect(lines[0]).toContain('[orders] Orders: Order placed');
    expect(lines[0]).toContain('o-1');
    expect(lines[0]).not.toContain('hunter2-hunter2');
  });
});
