import { channel } from 'node:diagnostics_channel';

import type { RevocationKind } from '@relay/contracts';

/** How one JWKS fetch attempt ended: a set loaded, or the known keys kept (HTTP error, timeout, not a JWKS). */
export type JwksFetchResult = 'success' | 'failure';

/** One JWKS fetch attempt, as published on {@link JWKS_FETCH_CHANNEL}. */
export interface JwksFetch {
  readonly result: JwksFetchResult;
}

/** One revocation received live (an `auth.revoked` event) and applied, as published on {@link REVOCATION_APPLIED_CHANNEL}. */
export interface AppliedRevocation {
  readonly kind: RevocationKind;
  /** When the issuer revoked (the entry's `at`, whole epoch seconds). Never the entry's id. */
  readonly at: number;
  /** When this process applied it (epoch ms). */
  readonly appliedAtMs: number;
}

/** The revocation feed was lost (disconnect, or the server silent), as published on {@link REVOCATION_FEED_LOST_CHANNEL}. */
export interface LostRevocationFeed {
  readonly bucket: string;
}

/** `node:diagnostics_channel` name of every JWKS fetch attempt ({@link JwksFetch}). */
export const JWKS_FETCH_CHANNEL = 'relay.auth.jwks-fetch';
/** `node:diagnostics_channel` name of every live revocation applied ({@link AppliedRevocation}). */
export const REVOCATION_APPLIED_CHANNEL = 'relay.auth.revocation-applied';
/** `node:diagnostics_channel` name of every loss of the revocation feed ({@link LostRevocationFeed}). */
export const REVOCATION_FEED_LOST_CHANNEL = 'relay.auth.revocation-feed-lost';

const jwksFetch = channel(JWKS_FETCH_CHANNEL);
const revocationApplied = channel(REVOCATION_APPLIED_CHANNEL);
const revocationFeedLost = channel(REVOCATION_FEED_LOST_CHANNEL);

// each report costs one property read while no one subscribes: nothing is built for an empty channel

/** Reports a JWKS fetch attempt. */
export function reportJwksFetch(result: JwksFetchResult): void {
  if (jwksFetch.hasSubscribers) jwksFetch.publish({ result } satisfies JwksFetch);
}

/** Reports a live revocation just applied; only its kind and time travel, never its id. */
export function reportRevocationApplied(entry: { readonly kind: RevocationKind; readonly at: number }): void {
  if (revocationApplied.hasSubscribers) {
    revocationApplied.publish({
      kind: entry.kind,
      at: entry.at,
      appliedAtMs: Date.now(),
    } satisfies AppliedRevocation);
  }
}

/** Reports the loss of the revocation feed of `bucket`. */
export function reportRevocationFeedLost(bucket: string): void {
  if (revocationFeedLost.hasSubscribers) revocationFeedLost.publish({ bucket } satisfies LostRevocationFeed);
}
