import { randomUUID } from 'node:crypto';

import { rssMiB, samplePeakRss } from '../core/child';
import type { FigureSink } from '../core/figures';
import { runHttpLoad } from '../core/http-load';
import type { LoadResult } from '../core/load-result';
import type { BenchOptions, DatabaseKind } from '../core/options';
import { median, round, sleep } from '../core/stats';
import { APP_NAMES, createStackDatabases } from './databases';
import { ADMIN, ensureBuilt, type RelayStack, startRelayStack } from './relay-stack';

const SKUS = Array.from({ length: 10 }, (_, index) => `bench-sku-${index}`);
// the largest stock level inventory accepts (MAX_STOCK_LEVEL): 10 skus × 1e6 outlast any run
const STOCK_PER_SKU = 1_000_000;

async function call(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function login(stack: RelayStack, credentials: { email: string; password: string }): Promise<string> {
  const answer = await call('POST', `${stack.apps.auth.url}/auth/login`, credentials);
  const token = (answer.body as { access_token?: unknown } | undefined)?.access_token;
  if (answer.status !== 200 || typeof token !== 'string') throw new Error(`login answered ${answer.status}`);
  return token;
}

/** Stocks the bench skus (as the bootstrapped admin) and returns a fresh customer's token. */
async function prepare(stack: RelayStack): Promise<string> {
  const admin = await login(stack, ADMIN);
  for (const sku of SKUS) {
    const answer = await call(
      'PUT',
      `${stack.apps.inventory.url}/inventory/${sku}`,
      { available: STOCK_PER_SKU },
      admin,
    );
    if (answer.status !== 200) throw new Error(`PUT /inventory/${sku} answered ${answer.status}`);
  }
  const customer = { email: `bench-${randomUUID()}@relay.test`, password: 'bench-customer-password' };
  const registered = await call('POST', `${stack.apps.auth.url}/auth/register`, customer);
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
  return login(stack, customer);
}

async function benchDatabase(
  kind: DatabaseKind,
  options: BenchOptions,
  sink: FigureSink,
  natsUrl: string,
): Promise<void> {
  let databases;
  try {
    databases = await createStackDatabases(kind, options.postgresUrl);
  } catch (error) {
    return sink.skip(
      `e2e ${kind}`,
      `no PostgreSQL at ${options.postgresUrl.replace(/\/\/[^@]*@/, '//')} (${describe(error)})`,
    );
  }
  let stack: RelayStack | undefined;
  try {
    stack = await startRelayStack(options, natsUrl, databases);
    const token = await prepare(stack);
    await sleep(1000);
    for (const app of APP_NAMES) {
      sink.info(
        `memory.${kind}.${app}.idle`,
        round(await rssMiB(stack.apps[app].child.process.pid), 1),
        'MiB RSS',
      );
    }
    let next = 0;
    const orders = {
      url: `${stack.apps.orders.url}/orders`,
      method: 'POST' as const,
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ items: [{ sku: SKUS[0], quantity: 1 }] }),
      perRequest: () => ({
        body: JSON.stringify({ items: [{ sku: SKUS[(next += 1) % SKUS.length], quantity: 1 }] }),
      }),
    };
    await runHttpLoad(orders, 10, options.warmupSeconds);
    const results = new Map<number, LoadResult[]>(options.e2eConcurrency.map((clients) => [clients, []]));
    const peak = Math.max(...options.e2eConcurrency);
    const peakRss = new Map<string, number[]>();
    for (let runIndex = 0; runIndex < options.runs; runIndex += 1) {
      for (const clients of options.e2eConcurrency) {
        const samplers =
          clients === peak
            ? APP_NAMES.map((app) => [app, samplePeakRss(stack?.apps[app].child.process.pid)] as const)
            : [];
        const result = await runHttpLoad(orders, clients, options.e2eSeconds);
        for (const [app, sampler] of samplers) {
          peakRss.set(app, [...(peakRss.get(app) ?? []), await sampler.stop()]);
        }
        results.get(clients)?.push(result);
        process.stdout.write(
          `    round ${runIndex + 1} ${kind} c=${String(clients).padEnd(3)} ${result.rps.toFixed(0).padStart(6)} orders/s  p50 ${result.p50} ms  p99 ${result.p99} ms${result.failures > 0 ? `  failures ${result.failures}` : ''}\n`,
        );
      }
    }
    for (const [clients, runs] of results) {
      sink.info(`e2e.${kind}.c${clients}.rps`, round(median(runs.map((run) => run.rps)), 0), 'orders/s');
      sink.info(`e2e.${kind}.c${clients}.p50`, round(median(runs.map((run) => run.p50))), 'ms');
      sink.info(`e2e.${kind}.c${clients}.p99`, round(median(runs.map((run) => run.p99))), 'ms');
      const failures = runs.reduce((sum, run) => sum + run.failures, 0);
      if (failures > 0) {
        sink.note(`e2e ${kind} c=${clients}: ${failures} requests failed (non-2xx, errors or timeouts)`);
      }
    }
    for (const app of APP_NAMES) {
      sink.info(
        `memory.${kind}.${app}.load`,
        round(Math.max(...(peakRss.get(app) ?? [Number.NaN])), 1),
        `MiB RSS (peak at ${peak} clients)`,
      );
    }
  } catch (error) {
    sink.skip(`e2e ${kind}`, describe(error));
  } finally {
    await stack?.stop();
    await databases.drop().catch(() => undefined);
  }
}

/**
 * End to end: `POST /orders` through the real apps (HTTP → orders → NATS → inventory → database →
 * reply) at each concurrency, on PGlite and on PostgreSQL, and the apps' RSS idle and under load.
 */
export async function benchE2e(options: BenchOptions, sink: FigureSink, natsUrl: string): Promise<void> {
  const unbuilt = ensureBuilt(options);
  if (unbuilt !== undefined) return sink.skip('e2e', unbuilt);
  for (const kind of options.databases) await benchDatabase(kind, options, sink, natsUrl);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
