import { createServiceApp, natsOptionsFrom, runService } from '@relay/bootstrap';

import { AppModule } from './app.module';
import { validateOrdersConfig } from './config/orders.config';

runService('orders', validateOrdersConfig, (config) =>
  createServiceApp(AppModule, { name: 'orders', ...natsOptionsFrom(config), logLevel: config.LOG_LEVEL }),
);
