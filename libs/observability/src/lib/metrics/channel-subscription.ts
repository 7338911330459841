import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import { Logger } from '@nestjs/common';

/** Ends one subscription. */
export type Unsubscribe = () => void;

const logger = new Logger('Metrics');

/**
 * Subscribes `record` to the `node:diagnostics_channel` channel `name`. A subscriber's exception would
 * reach the process as an uncaught one (diagnostics_channel rethrows it on the next tick): a metric
 * must never stop an app, so one is logged (once per channel) and the message dropped.
 */
export function onChannel<TMessage>(name: string, record: (message: TMessage) => void): Unsubscribe {
  let hasLoggedFailure = false;
  const listener = (message: unknown): void => {
    try {
      record(message as TMessage);
    } catch (error) {
      if (hasLoggedFailure) return;
      hasLoggedFailure = true;
      logger.error(
        `A metric from ${name} was not recorded: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  subscribe(name, listener);
  return () => unsubscribe(name, listener);
}
