import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import { type AuthModuleOptions, resolveAuthOptions, type ResolvedAuthOptions } from '../auth-module-options';
import { BoundedCache } from '../cache/bounded-cache';
import { AuthError } from '../errors/auth.error';
import { RevocationList } from '../revocation/revocation-list';
import { type Principal, toPrincipal } from './access-token';
import { assertCompactJws, readBearerToken } from './bearer-token';
import { RemoteKeySet } from './remote-key-set';

// RFC 8725 §3.1 / SECURITY T2: symmetric and unsigned algorithms are never accepted,
// whatever the configuration says.
const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;
const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'sub'];

/** Verifies access tokens against the contract rules (CONTRACT "Tokens"); the one place that does. */
@Injectable()
export class AccessTokenVerifier implements OnModuleDestroy {
  private readonly options: ResolvedAuthOptions;
  private readonly remoteKeys?: RemoteKeySet;
  private readonly getKey: JWTVerifyGetKey;
  private readonly algorithms: string[];
  // keyed by the exact token string, never by jti or claims: only the very bytes that verified may hit
  private readonly verified: BoundedCache<Principal>;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    private readonly revocations: RevocationList,
  ) {
    this.options = resolveAuthOptions(options);
    this.algorithms = this.options.algorithms.filter((alg) => !FORBIDDEN_ALGORITHM.test(alg));
    if (this.algorithms.length === 0) {
      throw new Error('AuthModule: algorithms must name an asymmetric algorithm');
    }
    this.verified = new BoundedCache(this.options.verifiedTokenCacheSize);
    if (this.options.keyResolver) {
      this.getKey = this.options.keyResolver;
    } else {
      // a changed key set may have dropped a key: forget verdicts reached with the old set
      const keys = new RemoteKeySet(new URL(this.options.jwksUri), this.options.jwksCooldownMs, () =>
        this.verified.clear(),
      );
      this.remoteKeys = keys;
      this.getKey = keys.getKey;
    }
  }

  /** Largest accepted token in bytes. */
  get maxTokenBytes(): number {
    return this.options.maxTokenBytes;
  }

  /** Number of JWKS fetch attempts (0 with a custom `keyResolver`). */
  get jwksFetches(): number {
    return this.remoteKeys?.fetches ?? 0;
  }

  /** Verifies an `Authorization` header value (`Bearer <token>`). */
  verifyAuthorization(header: string | string[] | undefined): Promise<Principal> {
    return this.verify(readBearerToken(header, this.options.maxTokenBytes));
  }

  /**
   * Verifies a compact access token; rejects with `AuthError` (never with the token in it).
   * A token verified before is served from the cache until its `exp`; revocation is checked every time.
   */
  async verify(token: string): Promise<Principal> {
    const cached = this.verifyCached(token);
    if (cached !== undefined) return cached;
    const now = this.now();
    const principal = await this.verifyUncached(token, now);
    this.revocations.assertNotRevoked(principal);
    // cached only while strictly before exp: the skew allowance past exp is never served from memory
    this.verified.set(token, principal, principal.expiresAt * 1000);
    return copyPrincipal(principal);
  }

  /**
   * The synchronous half of {@link verify}: the principal of a token this verifier accepted before
   * and that is still before its `exp` and not revoked, or `undefined` when the full check must run.
   * Throws `AuthError` for a malformed, oversized or revoked token. The guards use it so the common
   * case (a client repeating its token) allocates no promise.
   */
  verifyCached(token: string): Principal | undefined {
    assertCompactJws(token, this.options.maxTokenBytes);
    const cached = this.verified.get(token, this.now().getTime());
    if (cached === undefined) return undefined;
    this.revocations.assertNotRevoked(cached);
    return copyPrincipal(cached);
  }

  /**
   * Refetches the JWKS at once, ignoring the unknown-kid cooldown (key-rotation events); concurrent
   * calls share one fetch and event fetches stay at least 100 ms apart.
   */
  async refreshKeys(): Promise<void> {
    await this.remoteKeys?.refreshNow();
  }

  onModuleDestroy(): void {
    this.remoteKeys?.stop();
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  private async verifyUncached(token: string, now: Date): Promise<Principal> {
    const principal = toPrincipal(await this.verifySignatureAndClaims(token, now));
    // a lifetime beyond the longest the issuer may grant (e.g. exp = 1e20) is not a real token
    if (principal.expiresAt - principal.issuedAt > this.options.maxTokenAgeSeconds) {
      throw new AuthError('invalid_token');
    }
    return principal;
  }

  private async verifySignatureAndClaims(token: string, now: Date): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        typ: 'at+jwt',
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        maxTokenAge: this.options.maxTokenAgeSeconds,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: now,
      });
      return payload;
    } catch {
      throw new AuthError('invalid_token');
    }
  }
}

// callers get their own arrays, so a handler mutating its principal cannot change a cached verdict
function copyPrincipal(principal: Principal): Principal {
  return {
    ...principal,
    roles: [...principal.roles],
    scopes: [...principal.scopes],
    audience: [...principal.audience],
  };
}
