import { type DestinationStream, type Level, type Logger, pino, stdTimeFunctions } from 'pino';
import { PinoPretty } from 'pino-pretty';

import type { RelayLogFormat, RelayLogLevel } from '@relay/config';

import { batchedStdout } from './batched-destination';
import { currentCallFields } from './call-fields';
import { redactSecrets } from './redaction';

/** How {@link createServiceLogger} builds a service's logger. */
export interface ServiceLoggerOptions {
  /** `service` on every line. */
  service: string;
  /** `LOG_LEVEL`. Default: `info`. */
  level?: RelayLogLevel;
  /** `LOG_FORMAT`. Default: `json`. */
  format?: RelayLogFormat;
  /**
   * Where the lines go. Default: stdout, the lines of one event-loop turn in one write at the end of
   * the turn ({@link batchedStdout}; what is left is written as the process exits).
   */
  destination?: DestinationStream;
}

/** The service's logger: pino, with `service`, the call's fields and redaction on every line. */
export type ServiceLogger = Logger;

/**
 * One JSON object a line (`LOG_FORMAT=json`, the default): `level` (its name), `time` (ISO 8601, UTC),
 * `service`, inside a call `trace_id`, `span_id`, `request_id` and once verified `sub` and
 * `client_id`, then the line's own fields and `msg`. `LOG_FORMAT=pretty`: the same lines made
 * readable (coloured, one line each) for a person's console. Secrets are redacted by field name in
 * both ({@link redaction}).
 */
export function createServiceLogger(options: ServiceLoggerOptions): ServiceLogger {
  const format = options.format ?? 'json';
  return pino(
    {
      level: pinoLevel(options.level ?? 'info'),
      base: { service: options.service },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: redactSecrets },
      mixin: currentCallFields,
    },
    format === 'pretty' ? prettyConsole(options.destination) : (options.destination ?? batchedStdout()),
  );
}

/** pino's level for a Relay `LOG_LEVEL` (Nest's `verbose` is pino's `trace`). */
export function pinoLevel(level: RelayLogLevel): Level {
  return level === 'verbose' ? 'trace' : level;
}

// time, level, [service] context: message, then the other fields, on one line
function prettyConsole(destination: DestinationStream | undefined): DestinationStream {
  return PinoPretty({
    destination: destination ?? 1,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'service,context',
    messageFormat: '[{service}] {if context}{context}: {end}{msg}',
  });
}
