import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SignJWT } from 'jose';

import { type Role, scopeForRoles } from '@relay/contracts';

import { type AuthConfig, userTokenAudiences } from '../config/auth.config';
import { type ActiveSigningKey, SIGNING_ALGORITHM, SigningKeysService } from '../keys/signing-keys.service';
import type { User } from '../users/user';
import { USER_CLIENT_ID } from './user-scopes';

/** `issue()` was asked for a token already expired when signed: its `notAfter`, or `iat` + TTL, has passed. */
export class TokenBornExpiredError extends Error {
  override readonly name = 'TokenBornExpiredError';

  constructor() {
    super('Access token would be born expired');
  }
}

/** RFC 8693 §4.1 actor claim; nested when a token is exchanged more than once. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** What varies between access tokens; `iss`, `exp`, `iat` and `jti` are set by the issuer. */
export interface AccessTokenSubject {
  sub: string;
  aud: string[];
  clientId: string;
  sessionId?: string;
  roles: readonly Role[];
  scope: string;
  act?: ActorClaim;
}

/** A signed access token and its lifetime (`exp - iat`). */
export interface IssuedAccessToken {
  accessToken: string;
  /** `exp - iat`, in seconds. */
  expiresIn: number;
  /** `exp`, in epoch seconds. */
  expiresAt: number;
  tokenId: string;
}

/** Signs RFC 9068 access tokens with the active ES256 key. */
@Injectable()
export class TokenIssuer {
  private readonly issuer: string;
  private readonly ttlSeconds: number;
  /**
   * The resource servers (ACCESS_TOKEN_AUDIENCE): every one of them is in a user token's `aud`; a
   * service token or an exchanged token names them, or one of them.
   */
  readonly resourceAudiences: readonly string[];

  constructor(
    private readonly keys: SigningKeysService,
    config: ConfigService<AuthConfig, true>,
  ) {
    this.issuer = config.get('AUTH_ISSUER', { infer: true });
    this.ttlSeconds = config.get('ACCESS_TOKEN_TTL', { infer: true });
    this.resourceAudiences = userTokenAudiences({
      ACCESS_TOKEN_AUDIENCE: config.get('ACCESS_TOKEN_AUDIENCE', { infer: true }),
    });
  }

  /** A user's token in login session `sessionId`, for the web client (`options` as `issue`'s). */
  issueForUser(
    user: User,
    sessionId: string,
    options: { issuedAt?: number; key?: ActiveSigningKey } = {},
  ): Promise<IssuedAccessToken> {
    return this.issue(
      {
        sub: user.id,
        aud: [...this.resourceAudiences],
        clientId: USER_CLIENT_ID,
        sessionId,
        roles: user.roles,
        scope: scopeForRoles(user.roles),
      },
      options,
    );
  }

  /**
   * The active signing key, read now: `issue` given it reads no database, so it can sign inside a
   * transaction (which holds the embedded database's one connection) that must not commit unsigned.
   */
  signingKey(): Promise<ActiveSigningKey> {
    return this.keys.signingKey();
  }

  /** The default lifetime, in seconds (ACCESS_TOKEN_TTL). */
  get defaultTtlSeconds(): number {
    return this.ttlSeconds;
  }

  /**
   * Signs a token living ACCESS_TOKEN_TTL, never past `notAfter`, with `iat` = `issuedAt` (default:
   * now; all epoch seconds), with `key` (default: the active key, read now).
   */
  async issue(
    subject: AccessTokenSubject,
    options: { notAfter?: number; issuedAt?: number; key?: ActiveSigningKey } = {},
  ): Promise<IssuedAccessToken> {
    const { kid, privateKey } = options.key ?? (await this.keys.signingKey());
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = options.issuedAt ?? now;
    const expiresAt = Math.min(issuedAt + this.ttlSeconds, options.notAfter ?? Number.POSITIVE_INFINITY);
    if (expiresAt <= Math.max(issuedAt, now)) throw new TokenBornExpiredError();
    const tokenId = randomUUID();
    const accessToken = await new SignJWT({
      iss: this.issuer,
      sub: subject.sub,
      aud: subject.aud,
      exp: expiresAt,
      iat: issuedAt,
      jti: tokenId,
      client_id: subject.clientId,
      ...(subject.sessionId === undefined ? {} : { sid: subject.sessionId }),
      roles: subject.roles,
      scope: subject.scope,
      ...(subject.act === undefined ? {} : { act: subject.act }),
    })
      // RFC 9068 §2.1: typ "at+jwt"; kid names a key of our JWKS
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid, typ: 'at+jwt' })
      .sign(privateKey);
    return { accessToken, expiresIn: expiresAt - issuedAt, expiresAt, tokenId };
  }
}
