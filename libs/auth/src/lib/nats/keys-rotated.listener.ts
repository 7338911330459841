import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';

import { AuthSubjects } from '@relay/contracts';

import { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { RelayNatsClient } from './relay-nats-client';

/** Refetches the JWKS when the issuer announces a new signing key on `auth.keys.rotated`. */
@Injectable()
export class KeysRotatedListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(KeysRotatedListener.name);
  private subscription?: Subscription;

  constructor(
    private readonly natsClient: RelayNatsClient,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const connection = await this.natsClient.connection();
      this.subscription = connection.subscribe(AuthSubjects.keysRotated, {
        callback: () => void this.verifier.refreshKeys(),
      });
    } catch (error) {
      // unknown kids still trigger a (rate-limited) refetch, so rotation keeps working without events
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Not listening to ${AuthSubjects.keysRotated}: ${reason}`);
    }
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
