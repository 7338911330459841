import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import { type AuthModuleOptions, resolveAuthOptions, type ResolvedAuthOptions } from '../auth-module-options';
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

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    private readonly revocations: RevocationList,
  ) {
    this.options = resolveAuthOptions(options);
    this.algorithms = this.options.algorithms.filter((alg) => !FORBIDDEN_ALGORITHM.test(alg));
    if (this.algorithms.length === 0) throw new Error('AuthModule: algorithms must name an asymmetric algorithm');
    if (this.options.keyResolver) {
      this.getKey = this.options.keyResolver;
    } else {
      const keys = new RemoteKeySet(new URL(this.options.jwksUri), this.options.jwksCooldownMs);
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

  /** Verifies a compact access token; rejects with `AuthError` (never with the token in it). */
  async verify(token: string): Promise<Principal> {
    assertCompactJws(token, this.options.maxTokenBytes);
    const payload = await this.verifySignatureAndClaims(token);
    const principal = toPrincipal(payload);
    // a lifetime beyond the longest the issuer may grant (e.g. exp = 1e20) is not a real token
    if (principal.expiresAt - principal.issuedAt > this.options.maxTokenAgeSeconds) {
      throw new AuthError('invalid_token');
    }
    this.revocations.assertNotRevoked(principal);
    return principal;
  }

  /** Refetches the JWKS now, or right after the cooldown when one was just fetched (key-rotation events). */
  async refreshKeys(): Promise<void> {
    await this.remoteKeys?.refreshSoon();
  }

  onModuleDestroy(): void {
    this.remoteKeys?.stop();
  }

  private async verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        typ: 'at+jwt',
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        maxTokenAge: this.options.maxTokenAgeSeconds,
        requiredClaims: REQUIRED_CLAIMS,
        ...(this.options.clock ? { currentDate: this.options.clock() } : {}),
      });
      return payload;
    } catch {
      throw new AuthError('invalid_token');
    }
  }
}
