import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { AuthConfig } from '../config/auth.config';
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

  /** The client, or `invalid_client`; an unknown id costs the same hashing work as a wrong secret. */
  async authenticate(credentials: PresentedClientCredentials): Promise<ServiceClient> {
    const client = this.clients.get(credentials.clientId);
    const isSecretRight =
      client === undefined
        ? await this.hasher.verifyNothing(credentials.clientSecret)
        : await this.hasher.verify(client.secretHash, credentials.clientSecret);
    if (client === undefined || !isSecretRight) {
      throw new OAuthError('invalid_client', 'Client authentication failed');
    }
    return { id: client.id, scopes: client.scopes };
  }
}
