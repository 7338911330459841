import { exitOnInvalidEnvironment } from '@relay/config';

import { createOrdersApp } from './app.factory';
import { validateOrdersConfig } from './config/orders.config';

async function bootstrap(): Promise<void> {
  const config = exitOnInvalidEnvironment(validateOrdersConfig);
  const app = await createOrdersApp(config);
  app.enableShutdownHooks();
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, '0.0.0.0');
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `orders failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
