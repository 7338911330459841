import type { LogLevel } from '@nestjs/common';
import { IsIn, IsIP, IsOptional, IsString, Matches } from 'class-validator';

import { IsHttpUrl, IsReadableFile, IsZeroOrInRange } from './config-decorators';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
/** `LOG_LEVEL`: the least severe level written (Nest's names; `info` is Nest's `log`, `verbose` pino's `trace`). */
export type RelayLogLevel = (typeof LOG_LEVELS)[number];

const LOG_FORMATS = ['json', 'pretty'] as const;
/** `LOG_FORMAT`: `json`, one JSON object a line (for collectors); `pretty`, coloured lines for a person's console. */
export type RelayLogFormat = (typeof LOG_FORMATS)[number];

const DATABASE_TIMEOUT_MESSAGE = (name: string): string =>
  `${name} must be 0 (not set) or an integer from 1000 to 3600000 (milliseconds)`;

/**
 * Variables every Relay app reads (CONTRACT.md, Processes). Subclasses annotate each field's type
 * (`PORT: number = 3001`): the annotation is what converts the environment's strings.
 */
export class BaseAppConfig {
  /**
   * The address the app's HTTP server listens on. Default: `0.0.0.0`, every IPv4 interface (in a
   * container, what its published port reaches); the demo uses `127.0.0.1`, this machine only.
   */
  @IsIP(undefined, { message: 'LISTEN_ADDRESS must be an IP address, e.g. 0.0.0.0 or 127.0.0.1' })
  LISTEN_ADDRESS: string = '0.0.0.0';

  /** Default: `nats://127.0.0.1:4222`; a comma-separated list is accepted. */
  @Matches(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, {
    message: 'NATS_URL must be one or more nats:// URLs separated by commas',
  })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /** Unset: plain TCP (a development bus only). Set: TLS required, the server certificate chaining to this PEM. */
  @IsOptional()
  @IsReadableFile('NATS_TLS_CA_FILE must name a readable PEM file', (text) =>
    text.includes('-----BEGIN CERTIFICATE-----'),
  )
  NATS_TLS_CA_FILE?: string;

  /** Unset: anonymous (a development bus only). Set: the file holding this service's NKey seed (`SU…`). */
  @IsOptional()
  @IsReadableFile('NATS_NKEY_SEED_FILE must name a readable file holding an NKey user seed (SU…)', (text) =>
    /^SU[A-Z2-7]{56}$/.test(text),
  )
  NATS_NKEY_SEED_FILE?: string;

  /** Unset: embedded PostgreSQL (PGlite) under `${DATA_DIR}/<app>`. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /**
   * On a PostgreSQL server: its `statement_timeout`, ms (a statement running or waiting for a lock
   * longer is cancelled and its call fails). 0: not set by the app, the server's or the role's own
   * applies (behind PgBouncer, which refuses it as a connection parameter). Default: 15000.
   */
  @IsZeroOrInRange(1000, 3_600_000, DATABASE_TIMEOUT_MESSAGE('DATABASE_STATEMENT_TIMEOUT_MS'))
  DATABASE_STATEMENT_TIMEOUT_MS: number = 15_000;

  /**
   * On a PostgreSQL server: its `idle_in_transaction_session_timeout`, ms (a transaction its app left
   * idle longer is rolled back, its locks freed). 0: not set by the app, as above. Default: 30000.
   */
  @IsZeroOrInRange(1000, 3_600_000, DATABASE_TIMEOUT_MESSAGE('DATABASE_IDLE_TRANSACTION_TIMEOUT_MS'))
  DATABASE_IDLE_TRANSACTION_TIMEOUT_MS: number = 30_000;

  /** Default: `.data`. */
  @IsString()
  DATA_DIR: string = '.data';

  /** Default: `http://localhost:3000`. */
  @IsHttpUrl('AUTH_ISSUER', { bare: true })
  AUTH_ISSUER: string = 'http://localhost:3000';

  /** Default: `info`. */
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: RelayLogLevel = 'info';

  /** Default: `json`. */
  @IsIn(LOG_FORMATS, { message: `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}` })
  LOG_FORMAT: RelayLogFormat = 'json';

  /** Unset: no trace export. Set: the OTLP/HTTP endpoint (`/v1/traces` is appended) of every span. */
  @IsOptional()
  @IsHttpUrl('OTEL_EXPORTER_OTLP_ENDPOINT')
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
}

/** Nest log levels enabled at a Relay `LOG_LEVEL` (`info` is Nest's `log`). */
export function nestLogLevels(level: RelayLogLevel): LogLevel[] {
  const ordered: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const index = level === 'info' ? 3 : ordered.indexOf(level);
  return ordered.slice(0, index + 1);
}
