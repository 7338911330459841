import { randomUUID } from 'node:crypto';

import type { ConsumerDeserializer, IncomingEvent, IncomingRequest } from '@nestjs/microservices';

/** Stands in for the `data` of a NATS message that is not usable JSON; refused by `StrictValidationPipe`. */
export class MalformedNatsPayload {
  constructor(readonly reason: string) {}
}

// Relay payloads are small objects with at most 50 items: a longer array is an attack, not an order.
const MAX_ARRAY_LENGTH = 1000;

interface DeserializeOptions {
  channel?: string;
  replyTo?: string;
}

/**
 * Nest's NATS deserializer throws on bytes that are not JSON, which leaves the request unanswered
 * and an unhandled rejection behind. This one never throws: garbage, non-object data, `__proto__`
 * keys and oversized arrays become a `MalformedNatsPayload` that the handler's pipe turns into
 * err `{status: 400}` (after the guards: an unauthenticated sender still gets 401).
 */
export class StrictNatsDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, options: DeserializeOptions = {}): IncomingRequest | IncomingEvent {
    const pattern = options.channel ?? '';
    // a reply inbox means the sender waits for an answer: give it one even without a usable id
    const fallbackId = options.replyTo === undefined ? undefined : randomUUID();
    const decoded = parse(value);
    if (decoded instanceof MalformedNatsPayload) return message(pattern, decoded, fallbackId);
    const { data, id } = decoded;
    const replyId = typeof id === 'string' || typeof id === 'number' ? String(id) : fallbackId;
    if (data !== undefined && !isPlainObject(data)) {
      return message(pattern, new MalformedNatsPayload('data must be a JSON object'), replyId);
    }
    return message(pattern, data ?? {}, replyId);
  }
}

function message(pattern: string, data: unknown, id: string | undefined): IncomingRequest | IncomingEvent {
  return id === undefined ? { pattern, data } : { pattern, data, id };
}

function parse(value: unknown): Record<string, unknown> | MalformedNatsPayload {
  if (!(value instanceof Uint8Array)) return new MalformedNatsPayload('payload must be JSON');
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value), refuseUnsafeValues);
  } catch (error) {
    return new MalformedNatsPayload(
      error instanceof UnsafePayloadError ? error.message : 'payload must be JSON',
    );
  }
  return isPlainObject(decoded)
    ? decoded
    : new MalformedNatsPayload('payload must be a JSON object {pattern, data, id}');
}

class UnsafePayloadError extends Error {}

function refuseUnsafeValues(key: string, value: unknown): unknown {
  // A "__proto__" own key turns into a prototype swap once a mapper assigns it (prototype pollution).
  if (key === '__proto__') throw new UnsafePayloadError('payload must not contain a "__proto__" key');
  if (Array.isArray(value) && value.length > MAX_ARRAY_LENGTH) {
    throw new UnsafePayloadError(`payload arrays are limited to ${MAX_ARRAY_LENGTH} elements`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
