import { createServiceApp, natsOptionsFrom, runService } from '@relay/bootstrap';

import { AppModule } from './app.module';
import { validateInventoryConfig } from './config/inventory.config';

runService('inventory', validateInventoryConfig, (config) =>
  createServiceApp(AppModule, { name: 'inventory', ...natsOptionsFrom(config), logLevel: config.LOG_LEVEL }),
);
