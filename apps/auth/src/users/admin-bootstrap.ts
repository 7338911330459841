import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { AuthConfig } from '../config/auth.config';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from './users.service';

/**
 * Creates (or repairs) the admin named by AUTH_ADMIN_EMAIL / AUTH_ADMIN_PASSWORD at start. A new
 * AUTH_ADMIN_PASSWORD ends every session of the admin everywhere, as a password change does.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    private readonly config: ConfigService<AuthConfig, true>,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const email = this.config.get('AUTH_ADMIN_EMAIL', { infer: true });
    const password = this.config.get('AUTH_ADMIN_PASSWORD', { infer: true });
    if (email === undefined || password === undefined) return;
    const outcome = await this.users.ensureAdmin(email, password, (userId, currentHash, newHash) =>
      this.sessions.replacePasswordEverywhere(userId, currentHash, newHash),
    );
    if (outcome !== 'unchanged') this.logger.log(`Bootstrap admin ${outcome}`);
  }
}
