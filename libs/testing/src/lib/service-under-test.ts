import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type NatsServer, startNatsServer } from './nats-server';

/** Options of {@link startServiceUnderTest}. */
export interface ServiceUnderTestOptions {
  /** Names the throw-away data directory: `relay-<name>-…` under the OS's temporary directory. */
  name: string;
  /** Variables set beside `DATA_DIR`, `NATS_URL` and `LOG_LEVEL` (`error`), such as `AUTH_ISSUER`. */
  env?: Record<string, string>;
}

/** A service's app running on a private NATS and an embedded PostgreSQL (specs only). */
export interface ServiceUnderTest<TApp> {
  readonly app: TApp;
  /** The private JetStream NATS the app is connected to (also `NATS_URL`). */
  readonly natsServer: NatsServer;
  /** The embedded PostgreSQL's data directory (also `DATA_DIR`). */
  readonly dataDir: string;
  /** Closes the app, stops NATS and removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts a private JetStream NATS and a throw-away data directory, points `process.env` at them
 * (without `DATABASE_URL`, so the app uses its embedded PostgreSQL), then lets `createApp` build the
 * app on that NATS. Import nothing from the app before `createApp` runs: its config is validated
 * when app.module loads. Stops what it started if `createApp` throws.
 */
export async function startServiceUnderTest<TApp extends { close(): Promise<void> }>(
  options: ServiceUnderTestOptions,
  createApp: (natsUrl: string) => Promise<TApp>,
): Promise<ServiceUnderTest<TApp>> {
  const natsServer = await startNatsServer({ jetstream: true });
  const dataDir = mkdtempSync(join(tmpdir(), `relay-${options.name}-`));
  const stopEnvironment = async (): Promise<void> => {
    await natsServer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  delete process.env['DATABASE_URL'];
  Object.assign(process.env, {
    DATA_DIR: dataDir,
    NATS_URL: natsServer.url,
    LOG_LEVEL: 'error',
    ...options.env,
  });
  let app: TApp;
  try {
    app = await createApp(natsServer.url);
  } catch (error) {
    await stopEnvironment();
    throw error;
  }
  return {
    app,
    natsServer,
    dataDir,
    stop: async () => {
      await app.close();
      await stopEnvironment();
    },
  };
}
