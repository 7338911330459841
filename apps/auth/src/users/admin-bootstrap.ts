import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { AuthConfig } from '../config/auth.config';
import { UsersService } from './users.service';

/** Creates (or repairs) the admin named by AUTH_ADMIN_EMAIL / AUTH_ADMIN_PASSWORD at start. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    private readonly config: ConfigService<AuthConfig, true>,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const email = this.config.get('AUTH_ADMIN_EMAIL', { infer: true });
    const password = this.config.get('AUTH_ADMIN_PASSWORD', { infer: true });
    if (email === undefined || password === undefined) return;
    const outcome = await this.users.ensureAdmin(email, password);
    if (outcome !== 'unchanged') this.logger.log(`Bootstrap admin ${outcome}`);
  }
}
