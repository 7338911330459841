import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { AuthConfig } from '../config/auth.config';
import { type LoginAttempts, LoginThrottledException } from '../sessions/login-attempts';
import { CLIENT_ATTEMPTS } from '../sessions/login-attempts.module';
import { PasswordHasher } from '../users/password-hasher';
import { OAuthError } from './oauth.error';
import { parseServiceClients } from './service-clients';
import type { PresentedClientCredentials } from './token-request';

/** An authenticated service client. */
export interface ServiceClient {
  id: string;
  /** Scopes it may request. */
  scopes: readonly string[];
}

interface RegisteredClient extends ServiceClient {
  secretHash: string;
}

/** Service clients from AUTH_CLIENTS; secrets are kept only as Argon2id hashes, in memory. */
@Injectable()
export class ServiceClientsRegistry implements OnModuleInit {
  private readonly clients = new Map<string, RegisteredClient>();

  constructor(
    private readonly config: ConfigService<AuthConfig, true>,
    private readonly hasher: PasswordHasher,
    @Inject(CLIENT_ATTEMPTS) private readonly attempts: LoginAttempts,
  ) {}

  async onModuleInit(): Promise<void> {
    const entries = parseServiceClients(this.config.get('AUTH_CLIENTS', { infer: true }));
    for (const entry of entries) {
      this.clients.set(entry.id, {
        id: entry.id,
        scopes: entry.scopes,
        secretHash: await this.hasher.hash(entry.secret),
      });
    }
  }

  /**
   * The client, or `invalid_client`; an unknown id costs the same hashing work as a wrong secret.
   * Failures are throttled like failed logins, per client and per address (`LoginThrottledException`,
   * 429), so a secret cannot be guessed online.
   */
  async authenticate(credentials: PresentedClientCredentials, clientAddress: string): Promise<ServiceClient> {
    // ':' never occurs in a client id or an email address: its own keys in the throttle. Checked, not
    // counted up front as logins are: a burst of right secrets (token exchanges) must not throttle itself
    const account = `client:${credentials.clientId}`;
    const retryAfterSeconds = await this.attempts.retryAfterSeconds(account, clientAddress);
    if (retryAfterSeconds > 0) {
      throw new LoginThrottledException(
        retryAfterSeconds,
        'Too many failed client authentications; retry later',
      );
    }
    const client = this.clients.get(credentials.clientId);
    const isSecretRight =
      client === undefined
        ? await this.hasher.verifyNothing(credentials.clientSecret)
        : await this.hasher.verify(client.secretHash, credentials.clientSecret);
    if (client === undefined || !isSecretRight) {
      await this.attempts.recordFailure(account, clientAddress);
      throw new OAuthError('invalid_client', 'Client authentication failed');
    }
    return { id: client.id, scopes: client.scopes };
  }
}
