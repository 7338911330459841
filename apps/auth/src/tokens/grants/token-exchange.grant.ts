import { Injectable } from '@nestjs/common';

import { AccessTokenVerifier, AuthError, type Principal } from '@relay/auth';
import { isRole } from '@relay/contracts';

import { OAuthError } from '../oauth.error';
import type { OAuthTokenResponse } from '../oauth-token.response';
import type { ServiceClient } from '../service-clients.registry';
import { type ActorClaim, TokenBornExpiredError, TokenIssuer } from '../token-issuer.service';
import { readScopes, type TokenRequestParams } from '../token-request';
import { ACCESS_TOKEN_TYPE } from './grant-types';
import { readRequestedAudience } from './requested-audience';
import { isUserToken } from '../user-scopes';

/**
 * RFC 8693 token exchange: a client trades a user's access token for one narrowed to a single
 * audience, carrying `act: {sub: <client>}` and living no longer than the subject token. A requested
 * `scope` narrows it to exactly that scope: the user's roles are dropped (a role grants more than any
 * scope), so the callee's `@Roles()` handlers refuse it and only `@Scopes()` it satisfies accept it.
 */
@Injectable()
export class TokenExchangeGrant {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async grant(client: ServiceClient, params: TokenRequestParams): Promise<OAuthTokenResponse> {
    const subjectToken = params['subject_token'];
    if (subjectToken === undefined) throw new OAuthError('invalid_request', 'subject_token is required');
    // RFC 8693 asks for it; the contract's request leaves it out, and an access token is all there is
    const subjectType = params['subject_token_type'];
    if (subjectType !== undefined && subjectType !== ACCESS_TOKEN_TYPE) {
      throw new OAuthError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const requestedType = params['requested_token_type'];
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
      throw new OAuthError('invalid_request', `requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    if (params['actor_token'] !== undefined) {
      throw new OAuthError('invalid_request', 'actor_token is not supported');
    }
    const audience = readRequestedAudience(params, this.issuer.resourceAudiences);
    if (audience === undefined) throw new OAuthError('invalid_request', 'audience is required');
    const subject = await this.verifySubject(subjectToken);
    const requestedScopes = readScopes(params);
    const scopes = narrowScopes(subject.scopes, requestedScopes);
    const issued = await this.issuer
      .issue(
        {
          sub: subject.subject,
          aud: [audience],
          clientId: client.id,
          ...(subject.sessionId === undefined ? {} : { sessionId: subject.sessionId }),
          // only Relay's own roles are minted again
          roles: requestedScopes === undefined ? subject.roles.filter(isRole) : [],
          scope: scopes.join(' '),
          act: actorChain(client.id, subject.actor),
        },
        // dated like the subject token (SECURITY S8: it inherits its revocation): whatever ends the subject
        // token by its iat (a block, a password change, logout-all) ends this one too, even when this
        // instance signs it before that revocation has reached it
        { notAfter: subject.expiresAt, issuedAt: subject.issuedAt },
      )
      .catch((error: unknown) => {
        // older than this instance's ACCESS_TOKEN_TTL (another replica's may be longer), or at its exp
        // by the time it is signed: a token dated like it would be born expired
        if (error instanceof TokenBornExpiredError) {
          throw new OAuthError('invalid_grant', 'subject_token is too old to be exchanged');
        }
        throw error;
      });
    return {
      access_token: issued.accessToken,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: issued.expiresAt - Math.floor(Date.now() / 1000),
      scope: scopes.join(' '),
    };
  }

  // the same rules every service applies (signature, typ, iss, aud, time, revocation), against this
  // service's own keys; a user's token only: an exchanged token is not exchanged again, nor a service's
  private async verifySubject(token: string): Promise<Principal> {
    let subject: Principal;
    try {
      subject = await this.verifier.verify(token);
    } catch (error) {
      // this issuer cannot judge the token yet (its revocation list not replayed since it started): a
      // 503 its caller answers as its own outage, never invalid_grant, which the caller's caller would
      // take for a bad token of theirs (and drop it, or log its user out)
      if (error instanceof AuthError && error.status === 503) throw error;
      throw new OAuthError('invalid_grant', 'subject_token is invalid, expired or revoked');
    }
    if (!isUserToken(subject) || subject.expiresAt <= Math.floor(Date.now() / 1000)) {
      throw new OAuthError('invalid_grant', 'subject_token is invalid, expired or revoked');
    }
    return subject;
  }
}

function narrowScopes(granted: readonly string[], requested: string[] | undefined): readonly string[] {
  if (requested === undefined) return granted;
  if (!requested.every((scope) => granted.includes(scope))) {
    throw new OAuthError('invalid_scope', 'Requested scope exceeds the subject token scope');
  }
  return requested;
}

// RFC 8693 §4.1: the current actor on top, earlier actors nested below
function actorChain(clientId: string, previousActor: string | undefined): ActorClaim {
  return previousActor === undefined ? { sub: clientId } : { sub: clientId, act: { sub: previousActor } };
}
