import { exitOnInvalidEnvironment } from '@relay/config';

import { createInventoryApp } from './app.factory';
import { validateInventoryConfig } from './config/inventory.config';

async function bootstrap(): Promise<void> {
  const config = exitOnInvalidEnvironment(validateInventoryConfig);
  const app = await createInventoryApp(config);
  app.enableShutdownHooks();
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, '0.0.0.0');
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `inventory failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
