import { channel } from 'node:diagnostics_channel';

import { type Context, SpanStatusCode, trace } from '@opentelemetry/api';

/** One finished outgoing NATS request or event, as published on {@link NATS_CALL_FINISHED_CHANNEL}. */
export interface FinishedNatsCall {
  readonly subject: string;
  /** 200 for an answer (or a published event), else the err status; 504 when no answer came in time. */
  readonly status: number;
  readonly durationMs: number;
}

/**
 * `node:diagnostics_channel` name on which `RelayNatsClient` publishes every finished outgoing call
 * as a {@link FinishedNatsCall} (an app's RPC latency metrics subscribe to it).
 */
export const NATS_CALL_FINISHED_CHANNEL = 'relay.auth.nats-call-finished';
const natsCallFinished = channel(NATS_CALL_FINISHED_CHANNEL);

/** Ends an outgoing call's client (or producer) span with its status and publishes it. */
export function endOutgoingCall(context: Context, call: FinishedNatsCall): void {
  const span = trace.getSpan(context);
  if (span?.isRecording()) {
    span.setAttribute('rpc.response.status_code', call.status);
    if (call.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
  if (natsCallFinished.hasSubscribers) natsCallFinished.publish(call);
}
