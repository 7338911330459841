import { createServiceApp, runService } from '@relay/bootstrap';

import { AppModule } from './app.module';
import { validateInventoryConfig } from './config/inventory.config';

runService('inventory', validateInventoryConfig, (config) =>
  createServiceApp(AppModule, { name: 'inventory', natsUrl: config.NATS_URL, logLevel: config.LOG_LEVEL }),
);
