import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, type KeyLike } from 'jose';

import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import {
  type AuthModuleOptions,
  epochMsClock,
  FORBIDDEN_ALGORITHM,
  resolveAuthOptions,
  type ResolvedAuthOptions,
} from '../auth-module-options';
import { BoundedCache } from '../cache/bounded-cache';
import { Doorkeeper } from '../cache/doorkeeper';
import { AuthError } from '../errors/auth.error';
import { warnIfClearText } from '../http/clear-text';
import { RevocationList } from '../revocation/revocation-list';
import { type Principal, toPrincipal } from './access-token';
import { assertCompactJws, readBearerToken } from './bearer-token';
import { KeysUnavailableError, RemoteKeySet } from './remote-key-set';

const BEARER_PREFIX = 'Bearer ';
const CACHE_INDEX_CHARS = 16;
// an issuer signs with one protected header per key: a handful, however many tokens
const MAX_KNOWN_HEADERS = 16;

/** A token this verifier accepted and its caller; frozen, shared by every call presenting that token. */
export interface VerifiedToken {
  readonly token: string;
  readonly principal: Principal;
}

/** A JWKS key and the protected header (with its trailing dot) of a token it verified. */
interface KnownHeader {
  readonly prefix: string;
  readonly key: KeyLike;
}

/** A remembered verdict (see `AccessTokenVerifier.remember`). */
interface CachedVerdict {
  readonly verified: VerifiedToken;
  /** `Bearer <token>`: a later `Authorization` header is compared with it as is. */
  readonly bearer: string;
}

const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'sub'];

/** Verifies access tokens against the contract rules (CONTRACT "Tokens"); the one place that does. */
@Injectable()
export class AccessTokenVerifier implements OnModuleDestroy {
  private readonly options: ResolvedAuthOptions;
  private readonly remoteKeys?: RemoteKeySet;
  private readonly getKey: JWTVerifyGetKey;
  // the contract's rules as jose options; the current time is jose's own unless a clock is set
  private readonly rules: JWTVerifyOptions;
  // verdicts by token: a hit needs the exact token string that verified (never a jti or claim match)
  private readonly verified: BoundedCache<number, CachedVerdict>;
  // tokens accepted once: a token is cached when it is accepted a second time (see remember)
  private readonly acceptedOnce?: Doorkeeper;
  // JWKS keys by the protected-header segment of a token they verified, the newest first
  private knownHeaders: readonly KnownHeader[] = [];
  // bumped when the JWKS changes: a check that started under the old set remembers nothing
  private keySetVersion = 0;
  // read by the cache only when it holds the key: a new token reads no clock here (unless its index
  // collides with a cached token's)
  private readonly nowMs: () => number;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    private readonly revocations: RevocationList,
  ) {
    this.options = resolveAuthOptions(options);
    this.nowMs = epochMsClock(this.options.clock);
    const algorithms = this.options.algorithms.filter((alg) => !FORBIDDEN_ALGORITHM.test(alg));
    if (algorithms.length === 0) {
      throw new Error('AuthModule: algorithms must name an asymmetric algorithm');
    }
    this.rules = Object.freeze({
      algorithms,
      typ: 'at+jwt',
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSeconds,
      maxTokenAge: this.options.maxTokenAgeSeconds,
      requiredClaims: REQUIRED_CLAIMS,
    });
    this.verified = new BoundedCache(this.options.verifiedTokenCacheSize);
    if (this.options.verifiedTokenCacheSize > 0) {
      this.acceptedOnce = new Doorkeeper(this.options.verifiedTokenCacheSize);
    }
    if (this.options.keyResolver) {
      this.getKey = this.options.keyResolver;
    } else {
      // a changed key set may have dropped a key: forget verdicts and keys learnt with the old set
      const keys = new RemoteKeySet(
        new URL(this.options.jwksUri),
        this.options.jwksCooldownMs,
        () => {
          this.keySetVersion += 1;
          this.verified.clear();
          this.knownHeaders = [];
        },
        this.options.jwksMaxAgeMs,
      );
      this.remoteKeys = keys;
      this.getKey = keys.getKey;
      warnIfClearText(new Logger(AccessTokenVerifier.name), this.options.jwksUri, 'The JWKS is fetched');
    }
  }

  /** Number of JWKS fetch attempts (0 with a custom `keyResolver`). */
  get jwksFetches(): number {
    return this.remoteKeys?.fetches ?? 0;
  }

  /**
   * Verifies an `Authorization` header value for a guard: synchronously when the same header was
   * accepted before (a client repeating its token: no parsing at all, no promise), else as a promise.
   * Rejects, or throws, `AuthError` exactly as `readBearerToken` + {@link verify} would.
   */
  verifyBearer(header: string | string[] | undefined): VerifiedToken | Promise<VerifiedToken> {
    // a hit is the very `Bearer <token>` text that passed every check before: what the full parse would return
    if (typeof header === 'string' && header.length <= this.options.maxTokenBytes + BEARER_PREFIX.length) {
      const cached = this.verified.get(cacheIndex(header), this.nowMs);
      if (cached?.bearer === header) return this.stillValid(cached);
    }
    return this.verifyToken(readBearerToken(header, this.options.maxTokenBytes), identity);
  }

  /**
   * Verifies a compact access token; rejects with `AuthError` (never with the token in it).
   * A token verified before (twice: see `remember`) is served from the cache until its `exp`, checked
   * against the revocation list again on every call.
   * The principal is frozen: every call with the same token shares it.
   */
  async verify(token: string): Promise<Principal> {
    return this.verifyToken(token, principalOf);
  }

  /**
   * Refetches the JWKS at once, ignoring the unknown-kid cooldown (key-rotation events); concurrent
   * calls share one fetch and event fetches stay at least 1 s apart.
   */
  async refreshKeys(): Promise<void> {
    await this.remoteKeys?.refreshNow();
  }

  onModuleDestroy(): void {
    this.remoteKeys?.stop();
  }

  /** `read` of the remembered verdict for exactly this token (revocation checked), else of a full verification. */
  private verifyToken<T>(token: string, read: (verified: VerifiedToken) => T): T | Promise<T> {
    // O(1) size check before anything reads the string
    if (token.length > this.options.maxTokenBytes) throw new AuthError('token_too_large');
    const index = cacheIndex(token);
    const cached = this.verified.get(index, this.nowMs);
    if (cached?.verified.token === token) return read(this.stillValid(cached));
    assertCompactJws(token, this.options.maxTokenBytes);
    return this.verifyAndRemember(token, index, read);
  }

  /**
   * A remembered verdict, checked against the revocation list again (a token may be revoked since).
   * The key set it was reached with ages here too: a client that only repeats cached tokens must not
   * keep a key the issuer stopped publishing alive (its refetch clears the cache when the set changed).
   */
  private stillValid(cached: CachedVerdict): VerifiedToken {
    this.remoteKeys?.refreshIfStale();
    this.revocations.assertNotRevoked(cached.verified.principal);
    return cached.verified;
  }

  // the one async step between the caller and jose: every extra await costs a promise and a microtask,
  // so it hands the caller `read(verified)` itself. `index` is cacheIndex(token); assertCompactJws passed
  private async verifyAndRemember<T>(
    token: string,
    index: number,
    read: (verified: VerifiedToken) => T,
  ): Promise<T> {
    const version = this.keySetVersion;
    const knownKey = this.knownKey(token);
    let payload: JWTPayload;
    let resolvedKey: KeyLike | Uint8Array | undefined;
    try {
      if (knownKey === undefined) {
        ({ payload, key: resolvedKey } = await jwtVerify(token, this.getKey, this.joseOptions()));
      } else {
        // the set's age counts on this path too: a retired key drops out of it with no event
        this.remoteKeys?.refreshIfStale();
        ({ payload } = await jwtVerify(token, knownKey, this.joseOptions()));
      }
    } catch (error) {
      throw new AuthError(error instanceof KeysUnavailableError ? 'keys_unavailable' : 'invalid_token');
    }
    const principal = toPrincipal(payload);
    // a lifetime beyond the longest the issuer may grant (e.g. exp = 1e20) is not a real token
    if (principal.expiresAt - principal.issuedAt > this.options.maxTokenAgeSeconds) {
      throw new AuthError('invalid_token');
    }
    this.revocations.assertNotRevoked(principal);
    const verified: VerifiedToken = Object.freeze({ token, principal });
    if (version === this.keySetVersion) {
      if (knownKey === undefined) this.rememberKey(token, resolvedKey);
      this.remember(verified, index);
    }
    return read(verified);
  }

  /**
   * Caches an accepted token from its second acceptance on. A cache entry outlives several young-
   * generation collections, so each one costs a copy or two by the garbage collector (measured: 2-4 %
   * of a cold verification, as much as the verifier's own checks together) and pushes out an entry
   * that may be in use; a token presented once (a one-shot client, a burst of distinct tokens) never
   * pays that. A client repeating its token pays one more full verification, once.
   */
  private remember(verified: VerifiedToken, index: number): void {
    if (this.acceptedOnce?.seenBefore(index) !== true) return;
    const cached: CachedVerdict = { verified, bearer: BEARER_PREFIX + verified.token };
    // cached only while strictly before exp: the skew allowance past exp is never served from memory
    this.verified.set(index, cached, verified.principal.expiresAt * 1000);
  }

  /** The JWKS key remembered for this token's protected header (see rememberKey), if any. */
  private knownKey(token: string): KeyLike | undefined {
    // a prefix ends with the header's dot: a token starting with it has exactly that header segment
    for (const known of this.knownHeaders) if (token.startsWith(known.prefix)) return known.key;
    return undefined;
  }

  /**
   * Remembers which JWKS key verified a token with this protected header, so the next token with the
   * same header goes to jose with the key itself: jose's resolver path (an await, a key-set search,
   * a result copy) costs about 5 % of a verification. The header text fixes `alg` and `kid`, all that
   * key selection reads, and only headers the issuer signed are remembered: a forged header never is.
   * A custom `keyResolver` may change its answers without telling: its keys are not remembered.
   */
  private rememberKey(token: string, key: KeyLike | Uint8Array | undefined): void {
    if (this.remoteKeys === undefined || key === undefined || key instanceof Uint8Array) return;
    // concurrent first verifications under one header each get here: the first one remembers it
    if (this.knownHeaders.length >= MAX_KNOWN_HEADERS || this.knownKey(token) !== undefined) return;
    // the newest key first: after a rotation, most tokens carry its header
    const prefix = token.slice(0, token.indexOf('.') + 1);
    this.knownHeaders = [{ prefix, key }, ...this.knownHeaders];
  }

  private joseOptions(): JWTVerifyOptions {
    const { clock } = this.options;
    return clock === undefined ? this.rules : { ...this.rules, currentDate: clock() };
  }
}

const identity = (verified: VerifiedToken): VerifiedToken => verified;
const principalOf = (verified: VerifiedToken): Principal => verified.principal;

/**
 * Where a token's verdict is filed: a 32-bit FNV-1a hash (its top 30 bits) of the last 16 characters
 * of its signature (96 random bits), which are also the last 16 of `Bearer <token>`. Hashing them
 * costs a fraction of hashing the whole token (~1 µs for 800 characters in V8) and allocates nothing;
 * a hit still needs the whole token (or header) to be identical (`verifyToken`, `verifyBearer`),
 * so a forged token that copies a cached token's signature, or its hash, finds the entry and misses.
 * Two valid tokens that collide share one slot: the later evicts the earlier, never a wrong verdict.
 */
function cacheIndex(token: string): number {
  let hash = 0x811c9dc5;
  for (let index = Math.max(0, token.length - CACHE_INDEX_CHARS); index < token.length; index += 1) {
    hash = Math.imul(hash ^ token.charCodeAt(index), 0x01000193);
  }
  // 30 bits: a small integer on every V8 build (a larger one may be a heap number, allocated per token)
  return hash >>> 2;
}
