import { createServiceApp, runService } from '@relay/bootstrap';

import { AppModule } from './app.module';
import { validateOrdersConfig } from './config/orders.config';

runService('orders', validateOrdersConfig, (config) =>
  createServiceApp(AppModule, { name: 'orders', natsUrl: config.NATS_URL, logLevel: config.LOG_LEVEL }),
);
