import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';

import { AuthSubjects } from '@relay/contracts';

import { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { RelayNatsClient } from './relay-nats-client';

const RETRY_MS = 2000;

/** Refetches the JWKS when the issuer announces a new signing key on `auth.keys.rotated`. */
@Injectable()
export class KeysRotatedListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(KeysRotatedListener.name);
  private subscription?: Subscription;
  private retryTimer?: NodeJS.Timeout;
  private isDestroyed = false;
  private hasLoggedFailure = false;

  constructor(
    private readonly natsClient: RelayNatsClient,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.subscribe();
  }

  onModuleDestroy(): void {
    this.isDestroyed = true;
    clearTimeout(this.retryTimer);
    this.subscription?.unsubscribe();
  }

  // once made, nats.js keeps the subscription across reconnects; until then, keep trying
  private async subscribe(): Promise<void> {
    if (this.isDestroyed) return;
    try {
      const connection = await this.natsClient.connection();
      if (this.isDestroyed) return;
      this.subscription = connection.subscribe(AuthSubjects.keysRotated, {
        callback: () => void this.verifier.refreshKeys(),
      });
      if (this.hasLoggedFailure) this.logger.log(`Listening to ${AuthSubjects.keysRotated}`);
    } catch (error) {
      // unknown kids still trigger a (rate-limited) refetch, so rotation keeps working meanwhile
      if (!this.hasLoggedFailure) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`Not listening to ${AuthSubjects.keysRotated} yet (${reason}); retrying`);
        this.hasLoggedFailure = true;
      }
      this.retryTimer = setTimeout(() => void this.subscribe(), RETRY_MS);
      this.retryTimer.unref();
    }
  }
}
