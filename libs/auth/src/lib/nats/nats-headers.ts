import { NatsContext } from '@nestjs/microservices';
import { headers as createHeaders, type MsgHdrs } from 'nats';

/** A header of the NATS message behind a Nest RPC context (names are case-sensitive). */
export function readNatsHeader(rpcContext: unknown, name: string): string | undefined {
  if (!(rpcContext instanceof NatsContext)) return undefined;
  const headers = rpcContext.getHeaders() as MsgHdrs | undefined;
  if (headers === undefined || !headers.has(name)) return undefined;
  return headers.get(name);
}

/** Like {@link readNatsHeader}, but every value when the message carries the header more than once. */
export function readNatsHeaderValues(rpcContext: unknown, name: string): string | string[] | undefined {
  if (!(rpcContext instanceof NatsContext)) return undefined;
  const headers = rpcContext.getHeaders() as MsgHdrs | undefined;
  if (headers === undefined || !headers.has(name)) return undefined;
  const values = headers.values(name);
  return values.length > 1 ? values : values[0];
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
