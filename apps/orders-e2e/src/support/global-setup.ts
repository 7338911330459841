import './workspace-paths';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type BusConnectionInfo, getFreePort, natsServerCommand, startNatsServer } from '@relay/testing';

import { HEALTH_TIMEOUT_MS, missingBuilds, startApp, stopProcess, waitHealthy } from './app-processes';
import {
  ADMIN,
  APP_NAMES,
  type AppName,
  type AppPorts,
  AUTH_CLIENTS,
  busEnv,
  E2E_BUS_VARIABLE,
  E2E_PORTS_VARIABLE,
  issuerAt,
  jwksUriOf,
  SERVICE_CLIENTS,
} from './e2e-env';
import { type E2eRun, saveRun } from './e2e-run';
import { E2E_LOG_DIR_VARIABLE, recordSeedFiles } from './log-scan';

function oneLineError(message: string): Error {
  const error = new Error(message);
  // jest prints the stack of a failed global setup; the message alone says what to do.
  error.stack = `orders-e2e: ${message}`;
  return error;
}

function appEnv(name: AppName, ports: AppPorts, run: E2eRun, bus: BusConnectionInfo): NodeJS.ProcessEnv {
  const issuer = issuerAt(ports);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports[name]),
    ...busEnv(bus, name),
    DATA_DIR: run.dataDir,
    AUTH_ISSUER: issuer,
    // info: the access lines are logged, and scanned for secrets at the end of the run
    LOG_LEVEL: 'info',
    // every spec's users register from 127.0.0.1
    AUTH_REGISTRATIONS_PER_ADDRESS: '1000000',
  };
  // Each app gets its own embedded database under DATA_DIR, never a URL from the caller's shell.
  delete env['DATABASE_URL'];
  if (name === 'auth') {
    env['AUTH_ADMIN_EMAIL'] = ADMIN.email;
    env['AUTH_ADMIN_PASSWORD'] = ADMIN.password;
    env['AUTH_CLIENTS'] = AUTH_CLIENTS;
  } else {
    env['AUTH_JWKS_URI'] = jwksUriOf(issuer);
    env['AUTH_CLIENT_ID'] = name;
    env['AUTH_CLIENT_SECRET'] = SERVICE_CLIENTS[name].secret;
  }
  return env;
}

function assertPreconditions(): void {
  const missing = missingBuilds(APP_NAMES);
  if (missing.length > 0) {
    const files = missing.map((name) => `dist/apps/${name}/main.js`);
    throw oneLineError(
      `missing ${files.join(', ')}; run \`npx nx e2e orders-e2e\` (it builds them) or \`npx nx run-many -t build -p auth orders inventory\``,
    );
  }
  // the apps run on a private closed bus (TLS, one NKey identity each), never on an open one
  if (natsServerCommand() === undefined) {
    throw oneLineError(
      'no nats-server (PATH, /usr/local/sbin, /usr/sbin or NATS_SERVER_BIN); `bash tools/scripts/ensure-services.sh` installs it',
    );
  }
}

/** Stops the apps (their output is in the log files once this resolves) and the bus; removes DATA_DIR. */
export async function stopRun(run: E2eRun): Promise<void> {
  await Promise.all(run.apps.map((app) => stopProcess(app.child)));
  await Promise.all(run.apps.map((app) => app.logged));
  await run.nats?.stop();
  rmSync(run.dataDir, { recursive: true, force: true });
}

export default async function globalSetup(): Promise<void> {
  assertPreconditions();
  const run: E2eRun = {
    apps: [],
    dataDir: mkdtempSync(join(tmpdir(), 'relay-orders-e2e-')),
    logDir: mkdtempSync(join(tmpdir(), 'relay-orders-e2e-logs-')),
  };
  saveRun(run);
  // every app process of the run (fault clusters' too) writes its output here; specs record secrets here
  process.env[E2E_LOG_DIR_VARIABLE] = run.logDir;
  try {
    // a private bus: nothing else subscribed on a shared one (dev servers, another suite's apps in the
    // same queue group) answers our requests
    run.nats = await startNatsServer({ closed: true });
    const bus = run.nats.bus;
    if (bus === undefined) throw new Error('the closed nats-server came without its connection info');
    const ports: AppPorts = {
      auth: await getFreePort(),
      orders: await getFreePort(),
      inventory: await getFreePort(),
    };
    // Test files read these through e2eBus() and APP_PORTS: they start after this hook and inherit
    // process.env.
    process.env[E2E_BUS_VARIABLE] = JSON.stringify(bus);
    process.env[E2E_PORTS_VARIABLE] = JSON.stringify(ports);
    // every identity's seed, the specs' own connections included
    recordSeedFiles(Object.values(bus.seedFiles));
    for (const name of APP_NAMES) {
      run.apps.push(startApp(name, appEnv(name, ports, run, bus)));
    }
    await Promise.all(
      run.apps.map((app) =>
        waitHealthy(app, `http://127.0.0.1:${ports[app.name]}/health`, HEALTH_TIMEOUT_MS),
      ),
    );
    // a free port can be taken between choosing it and the app binding it: the app then exits
    const exited = run.apps.filter((app) => app.child.exitCode !== null);
    if (exited.length > 0) {
      const names = exited.map((app) => app.name).join(', ');
      throw new Error(`${names} exited during start (see its log above)`);
    }
  } catch (error) {
    // jest skips global teardown when global setup fails, so clean up here.
    await stopRun(run);
    rmSync(run.logDir, { recursive: true, force: true });
    saveRun(undefined);
    throw oneLineError(error instanceof Error ? error.message : String(error));
  }
}
