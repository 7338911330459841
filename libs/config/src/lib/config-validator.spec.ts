import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BaseAppConfig, nestLogLevels } from './base-app.config';
import { IsIntegerInRange, IsPort } from './config-decorators';
import { createConfigValidator, InvalidEnvironmentError } from './config-validator';

class ExampleConfig extends BaseAppConfig {
  @IsPort()
  PORT: number = 3001;

  @IsIntegerInRange(1, 60_000, 'TIMEOUT_MS must be a positive integer (milliseconds, at most 60000)')
  TIMEOUT_MS: number = 3000;
}

const validate = createConfigValidator(ExampleConfig);

describe(createConfigValidator.name, () => {
  it('applies the defaults when the environment is empty', () => {
    const config = validate({});

    expect(config).toMatchObject({
      PORT: 3001,
      NATS_URL: 'nats://127.0.0.1:4222',
      DATA_DIR: '.data',
      AUTH_ISSUER: 'http://localhost:3000',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_STATEMENT_TIMEOUT_MS: 15_000,
      DATABASE_IDLE_TRANSACTION_TIMEOUT_MS: 30_000,
      LISTEN_ADDRESS: '0.0.0.0',
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('takes 0 for a database timeout the app leaves to the server (behind PgBouncer)', () => {
    const config = validate({
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
      DATABASE_IDLE_TRANSACTION_TIMEOUT_MS: '0',
    });

    expect(config.DATABASE_STATEMENT_TIMEOUT_MS).toBe(0);
    expect(config.DATABASE_IDLE_TRANSACTION_TIMEOUT_MS).toBe(0);
  });

  it('converts numeric strings and keeps given values', () => {
    const config = validate({ PORT: '4000', DATABASE_URL: 'postgres://u@h:5432/orders' });

    expect(config.PORT).toBe(4000);
    expect(config.DATABASE_URL).toBe('postgres://u@h:5432/orders');
  });

  it('listens where LISTEN_ADDRESS says: this machine only, or an IPv6 address', () => {
    expect(validate({ LISTEN_ADDRESS: '127.0.0.1' }).LISTEN_ADDRESS).toBe('127.0.0.1');
    expect(validate({ LISTEN_ADDRESS: '::' }).LISTEN_ADDRESS).toBe('::');
  });

  it('takes LOG_FORMAT=pretty for a console', () => {
    expect(validate({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
  });

  it('treats an empty variable as unset', () => {
    expect(validate({ PORT: '' }).PORT).toBe(3001);
    // compose passes OTEL_EXPORTER_OTLP_ENDPOINT empty when tracing is off
    expect(validate({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('takes an OTLP/HTTP endpoint such as compose tracing profile uses', () => {
    expect(validate({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      'http://jaeger:4318',
    );
  });

  it.each([
    ['PORT', { PORT: 'abc' }, 'PORT must be an integer between 1 and 65535'],
    ['PORT', { PORT: '70000' }, 'PORT must be an integer between 1 and 65535'],
    ['NATS_URL', { NATS_URL: 'http://x' }, 'NATS_URL must be'],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// URL'],
    [
      'AUTH_ISSUER',
      { AUTH_ISSUER: 'not a url' },
      'AUTH_ISSUER must be an http(s) URL without a query or a fragment',
    ],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    ['LISTEN_ADDRESS', { LISTEN_ADDRESS: 'localhost' }, 'LISTEN_ADDRESS must be an IP address'],
    ['LOG_FORMAT', { LOG_FORMAT: 'xml' }, 'LOG_FORMAT must be one of json, pretty'],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
    ],
    // without a scheme every export failed, silently
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' },
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
    ],
    [
      'DATABASE_STATEMENT_TIMEOUT_MS',
      { DATABASE_STATEMENT_TIMEOUT_MS: '-1' },
      'DATABASE_STATEMENT_TIMEOUT_MS must be 0 (not set) or an integer from 1000 to 3600000 (milliseconds)',
    ],
    // seconds meant, milliseconds read: every statement cancelled under load while /health said up
    [
      'DATABASE_STATEMENT_TIMEOUT_MS',
      { DATABASE_STATEMENT_TIMEOUT_MS: '15' },
      'DATABASE_STATEMENT_TIMEOUT_MS must be 0 (not set) or an integer from 1000 to 3600000',
    ],
    [
      'DATABASE_IDLE_TRANSACTION_TIMEOUT_MS',
      { DATABASE_IDLE_TRANSACTION_TIMEOUT_MS: '30s' },
      'DATABASE_IDLE_TRANSACTION_TIMEOUT_MS must be 0 (not set) or an integer from 1000 to 3600000',
    ],
    // the JWKS and token endpoint are the issuer plus a path: a query or fragment broke both
    [
      'AUTH_ISSUER',
      { AUTH_ISSUER: 'http://auth:3000?tenant=a' },
      'AUTH_ISSUER must be an http(s) URL without a query or a fragment',
    ],
    [
      'AUTH_ISSUER',
      { AUTH_ISSUER: 'http://auth:3000#x' },
      'AUTH_ISSUER must be an http(s) URL without a query or a fragment',
    ],
    ['TIMEOUT_MS', { TIMEOUT_MS: '1.5' }, 'TIMEOUT_MS must be a positive integer'],
    ['TIMEOUT_MS', { TIMEOUT_MS: '60001' }, 'TIMEOUT_MS must be a positive integer'],
  ])('throws one line naming %s when it is invalid', (_name, env, message) => {
    expect(() => validate(env)).toThrow(InvalidEnvironmentError);
    expect(() => validate(env)).toThrow(`Invalid environment: ${message}`);
  });

  it('never echoes the rejected value', () => {
    expect(() => validate({ DATABASE_URL: 'mysql://user:s3cret@host' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cret') }),
    );
  });
});

describe('NATS_TLS_CA_FILE and NATS_NKEY_SEED_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const seed = `SU${'A'.repeat(56)}`;
  const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

  it('are optional, and kept when they name usable files', () => {
    expect(validate({}).NATS_TLS_CA_FILE).toBeUndefined();
    const config = validate({ NATS_TLS_CA_FILE: ca, NATS_NKEY_SEED_FILE: file('ok.nk', `${seed}\n`) });

    expect(config.NATS_TLS_CA_FILE).toBe(ca);
    expect(config.NATS_NKEY_SEED_FILE).toBe(join(dir, 'ok.nk'));
  });

  it.each([
    [
      'a missing CA file',
      { NATS_TLS_CA_FILE: join(dir, 'missing.pem') },
      'NATS_TLS_CA_FILE must name a readable PEM file',
    ],
    [
      'a CA file without a certificate',
      { NATS_TLS_CA_FILE: file('not.pem', 'hello') },
      'NATS_TLS_CA_FILE must name',
    ],
    [
      'a missing seed file',
      { NATS_NKEY_SEED_FILE: join(dir, 'missing.nk') },
      'NATS_NKEY_SEED_FILE must name',
    ],
    [
      'an account seed',
      { NATS_NKEY_SEED_FILE: file('account.nk', `SA${'A'.repeat(56)}`) },
      'NATS_NKEY_SEED_FILE must name',
    ],
  ])('refuse %s with one line naming the variable, never the content', (_case, env, message) => {
    expect(() => validate(env)).toThrow(`Invalid environment: ${message}`);
    expect(() => validate(env)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('SA') }),
    );
  });
});

describe(nestLogLevels.name, () => {
  it('maps info to the levels up to log', () => {
    expect(nestLogLevels('info')).toEqual(['fatal', 'error', 'warn', 'log']);
    expect(nestLogLevels('error')).toEqual(['fatal', 'error']);
  });
});
