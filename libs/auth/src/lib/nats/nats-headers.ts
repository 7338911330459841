import { NatsContext } from '@nestjs/microservices';
import { headers as createHeaders, type MsgHdrs } from 'nats';

/** A header of the NATS message behind a Nest RPC context (names are case-sensitive). */
export function readNatsHeader(rpcContext: unknown, name: string): string | undefined {
  return headersWith(rpcContext, name)?.get(name);
}

/** Like {@link readNatsHeader}, but every value when the message carries the header more than once. */
export function readNatsHeaderValues(rpcContext: unknown, name: string): string | string[] | undefined {
  const values = headersWith(rpcContext, name)?.values(name);
  if (values === undefined) return undefined;
  return values.length > 1 ? values : values[0];
}

/** The headers of the NATS message behind a Nest RPC context, when it carries `name`. */
function headersWith(rpcContext: unknown, name: string): MsgHdrs | undefined {
  if (!(rpcContext instanceof NatsContext)) return undefined;
  const headers = rpcContext.getHeaders() as MsgHdrs | undefined;
  return headers?.has(name) ? headers : undefined;
}

/** Whether this RPC context is a NATS message (the only RPC transport Relay uses). */
export function isNatsContext(rpcContext: unknown): boolean {
  return rpcContext instanceof NatsContext;
}

/** nats.js headers from a plain record. */
export function toMsgHdrs(record: Record<string, string>): MsgHdrs {
  const headers = createHeaders();
  for (const [name, value] of Object.entries(record)) headers.set(name, value);
  return headers;
}
