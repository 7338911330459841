import { createHash } from 'node:crypto';

import { INVALID_SPAN_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { decodeProtectedHeader } from 'jose';

import type { VerifiedToken } from '../access-token/access-token-verifier';
import { CallContext, type TokenVerdict } from '../call-context/call-context';
import { tracer } from '../call-context/trace-context';
import { AuthError } from '../errors/auth.error';

/**
 * The span of one token verification (`relay.verify_token`), a child of the call's span. Its
 * attributes say whose token it was and how it fared, never the token: `enduser.id`, audience, `act`,
 * key id, a fingerprint (the first 16 hex digits of the token's SHA-256, to follow one token across
 * hops), verdict and whether the verifier's cache answered. Built only when the span is recorded, and
 * started only inside a recorded call.
 */
export function startVerificationSpan(transport: string): Span {
  const parent = CallContext.otelContext();
  // a call its trace does not record (most, at the default sampling) gets no verification span
  // either: under a parent-based sampler the child would be dropped, after paying for its start
  if (trace.getSpan(parent)?.isRecording() !== true) return NOT_RECORDED;
  return tracer.startSpan(
    'relay.verify_token',
    { kind: SpanKind.INTERNAL, attributes: { 'relay.transport': transport } },
    parent,
  );
}

const NOT_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Ends a verification span with the accepted token's attributes. */
export function endAccepted(span: Span, verified: VerifiedToken, cacheHit: boolean): void {
  if (!span.isRecording()) return;
  const { principal } = verified;
  const { kid, fingerprint } = identityOf(verified);
  span.setAttributes({
    'enduser.id': principal.subject,
    'relay.token.audience': [...principal.audience],
    'relay.token.client_id': principal.clientId,
    'relay.token.kid': kid,
    'relay.token.fingerprint': fingerprint,
    'relay.token.verdict': 'accepted' satisfies TokenVerdict,
    'relay.token.cache_hit': cacheHit,
  });
  if (principal.actor !== undefined) span.setAttribute('relay.token.act', principal.actor);
  span.end();
}

// A repeated token is answered with the same VerifiedToken object from the verifier's cache: its key
// id and fingerprint are worked out in its first recorded call and kept as long as that object lives
// (decoding the header and hashing the token in every recorded call cost the guarded route about 3 %
// of its CPU in the bench, at the default sampling).
interface TokenIdentity {
  readonly kid: string;
  readonly fingerprint: string;
}

const identities = new WeakMap<VerifiedToken, TokenIdentity>();

function identityOf(verified: VerifiedToken): TokenIdentity {
  let identity = identities.get(verified);
  if (identity === undefined) {
    identity = { kid: keyIdOf(verified.token), fingerprint: tokenFingerprint(verified.token) };
    identities.set(verified, identity);
  }
  return identity;
}

/** Ends a verification span with a refusal (401) or a missing role or scope (403). */
export function endRefused(
  span: Span,
  verdict: 'refused' | 'forbidden',
  error: unknown,
  token?: string,
): void {
  if (!span.isRecording()) return;
  span.setAttribute('relay.token.verdict', verdict);
  if (error instanceof AuthError) span.setAttribute('relay.token.error', error.code);
  if (token !== undefined && token !== '') {
    span.setAttribute('relay.token.fingerprint', tokenFingerprint(token));
    const kid = keyIdOf(token);
    if (kid !== '') span.setAttribute('relay.token.kid', kid);
  }
  span.setStatus({ code: SpanStatusCode.ERROR, message: verdict });
  span.end();
}

/** The first 16 hex digits of the token's SHA-256: names one token across hops and logs, reveals nothing of it. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

// the `kid` of a compact JWS's protected header; '' when unreadable (a refused token may be anything)
function keyIdOf(token: string): string {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 1024) return '';
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid.slice(0, 128) : '';
  } catch {
    return '';
  }
}
