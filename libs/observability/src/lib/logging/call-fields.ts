import { CallContext, type Principal } from '@relay/auth';

/**
 * The fields that tie a log line to its call: the trace and span of the call's server span, the
 * request id, and once the token is verified the caller (`sub`, `client_id`). Never the token.
 */
export interface CallFields {
  trace_id?: string;
  span_id?: string;
  request_id?: string;
  sub?: string;
  client_id?: string;
}

/** What identifies a call, as `CallContext` and a finished call's event carry it. */
interface CallIdentity {
  readonly traceId: string;
  readonly spanId: string;
  readonly requestId: string;
  readonly principal?: Principal;
}

/**
 * pino's `mixin`: the running call's fields, none outside a call. A new object every time: pino
 * merges the line's own fields into it.
 */
export function currentCallFields(): CallFields {
  const call = CallContext.current();
  return call === undefined ? {} : callFields(call);
}

/**
 * The fields of one call. All five keys are present (`undefined` ones are left out of the line), so
 * they win over the mixin's when a line names a call other than the running one.
 */
export function callFields(call: CallIdentity): Required<Record<keyof CallFields, string | undefined>> {
  const principal = call.principal;
  return {
    trace_id: call.traceId,
    span_id: call.spanId,
    request_id: call.requestId,
    sub: principal?.subject,
    // '' when the token has no client_id
    client_id: principal?.clientId === '' ? undefined : principal?.clientId,
  };
}
