import { Logger } from '@nestjs/common';

// this machine: nobody on a network path between
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Warns once, when the module starts, that `what` goes to `location` in clear text over a network:
 * anyone on the path could read it, or answer in its place (a JWKS of their own keys). Inside a
 * private network (compose's) that may be a choice; elsewhere, use https.
 */
export function warnIfClearText(logger: Logger, location: string, what: string): void {
  const url = new URL(location);
  if (url.protocol !== 'http:' || LOOPBACK_HOST.test(url.hostname)) return;
  logger.warn(
    `${what} over plain HTTP to ${url.host}: anyone on the network path can read or answer it; use https outside a private network`,
  );
}
