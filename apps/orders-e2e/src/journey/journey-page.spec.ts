import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';

import { type Browser, chromium, type Page } from 'playwright-core';

import { getFreePort } from '@relay/testing';

import { CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import { JourneyServer, otlpEndpointAt } from './journey-server';

/**
 * Debian's Chromium (CI installs it), or the Chromium or Chrome binary CHROMIUM_BIN names (macOS);
 * playwright-core drives it, no browser download.
 */
const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
/** Spans reach the page within a fraction of a second (the SDK's batch delay, 5 s by default). */
const OTEL_ENV = { OTEL_BSP_SCHEDULE_DELAY: '200' };
/** How long the page may take to show a journey: the spans' batch delay and polling, on a loaded machine. */
const JOURNEY_TIMEOUT_MS = 45_000;
/** Where to save a full-page screenshot once both journeys are shown (unset: none). */
const SCREENSHOT = process.env['RELAY_JOURNEY_SCREENSHOT'];
/** Tries of the old token after the logout before the spec gives up on seeing it refused. */
const RETRY_ATTEMPTS = 3;

/** What the spec reads back from one hop element (its data-* attributes). */
interface ShownHop {
  from: string;
  to: string;
  kind: string;
  transport: string;
  name: string;
  status: string;
  verdict: string;
  fingerprint: string;
  act: string;
  cacheHit: string;
  traceId: string;
  requestId: string;
}

/**
 * The token's journey page in a real browser: the apps export their spans to the journey server,
 * the page logs in, orders, logs out and retries, and shows each hop as the services recorded it.
 */
describe("the token's journey page", () => {
  let cluster: FaultCluster;
  let journey: JourneyServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: apt-get install chromium, or set CHROMIUM_BIN (the journey page spec drives it headless)`,
      );
    }
    const journeyPort = await getFreePort();
    const env = { ...OTEL_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpointAt(journeyPort) };
    cluster = await FaultCluster.start({
      label: 'journey',
      env: { auth: env, orders: env, inventory: env },
    });
    journey = await JourneyServer.start(journeyPort, {
      auth: cluster.authUrl,
      orders: cluster.ordersUrl,
      inventory: cluster.inventoryUrl,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(journey.url);
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await journey?.stop();
    await cluster?.stop();
  }, 30_000);

  let fingerprint: string;

  it('shows an order hop by hop: orders over HTTP, inventory.reserve, inventory.reserved back to orders', async () => {
    await page.fill('#email', `journey-${randomUUID()}@orders-e2e.example.com`);
    await page.fill('#password', 'journey-password-1');
    await page.click('#signup-button');
    await page.waitForSelector('#login-status[data-fingerprint]');
    fingerprint = (await page.getAttribute('#login-status', 'data-fingerprint')) ?? '';
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);

    await page.selectOption('#sku', 'sku-apple');
    await page.fill('#quantity', '2');
    const order = await followClick(page, '#order-button');

    expect(order.status).toBe('201');
    expect(
      order.hops.map(({ from, to, kind, transport, name }) => ({ from, to, kind, transport, name })),
    ).toEqual([
      { from: 'client', to: 'orders', kind: 'server', transport: 'http', name: 'POST /orders' },
      { from: 'orders', to: 'inventory', kind: 'client', transport: 'nats', name: 'inventory.reserve' },
      { from: 'orders', to: 'inventory', kind: 'server', transport: 'nats', name: 'inventory.reserve' },
      { from: 'inventory', to: 'orders', kind: 'producer', transport: 'nats', name: 'inventory.reserved' },
      { from: 'inventory', to: 'orders', kind: 'consumer', transport: 'nats', name: 'inventory.reserved' },
    ]);
    for (const hop of order.hops) {
      // forward mode: the user's own token travels the whole way, verified at every hop
      expect(hop).toMatchObject({ verdict: 'accepted', fingerprint, act: '', traceId: order.traceId });
      expect(hop.requestId).toBe(order.requestId);
      expect(hop.cacheHit).toMatch(/^(true|false)$/);
    }
    expect(order.hops[0].status).toBe('201');
  }, 120_000);

  it('after a logout shows where the same token is refused: orders, over HTTP, before any NATS hop', async () => {
    const logout = await followClick(page, '#logout-button');
    expect(logout.status).toBe('204');
    expect(logout.hops).toEqual([
      expect.objectContaining({
        from: 'client',
        to: 'auth',
        transport: 'http',
        name: 'POST /auth/logout',
        verdict: 'accepted',
        fingerprint,
      }),
    ]);

    // the contract gives the revocation 1 s to reach every service, long past once the logout's
    // journey settled; a retry answered before that would show accepted, so it is tried again
    let retry = await followClick(page, '#retry-button');
    for (let attempt = 2; attempt <= RETRY_ATTEMPTS && retry.status !== '401'; attempt += 1) {
      retry = await followClick(page, '#retry-button');
    }

    expect(retry.status).toBe('401');
    expect(retry.hops).toEqual([
      expect.objectContaining({
        from: 'client',
        to: 'orders',
        kind: 'server',
        transport: 'http',
        name: 'POST /orders',
        status: '401',
        verdict: 'refused',
        fingerprint,
        traceId: retry.traceId,
        requestId: retry.requestId,
      }),
    ]);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }, 120_000);
});

interface ShownJourney {
  title: string;
  status: string;
  traceId: string;
  requestId: string;
  hops: ShownHop[];
}

const HOP_FIELDS = {
  from: 'data-from',
  to: 'data-to',
  kind: 'data-kind',
  transport: 'data-transport',
  name: 'data-name',
  status: 'data-status',
  verdict: 'data-verdict',
  fingerprint: 'data-fingerprint',
  act: 'data-act',
  cacheHit: 'data-cache-hit',
  traceId: 'data-trace-id',
  requestId: 'data-request-id',
} as const satisfies Record<keyof ShownHop, string>;

/**
 * Clicks `button`, then waits until the journey panel that click opened has its answer and its
 * spans stopped coming (the page settles a journey after a quiet spell), and reads it back.
 */
async function followClick(page: Page, button: string): Promise<ShownJourney> {
  const seq = (await page.locator('article.journey').count()) + 1;
  await page.click(button);
  const panel = page.locator(`article.journey[data-seq="${seq}"][data-state="settled"][data-status]`);
  await panel.waitFor({ timeout: JOURNEY_TIMEOUT_MS });
  const attribute = async (name: string): Promise<string> => (await panel.getAttribute(name)) ?? '';
  const hops: ShownHop[] = [];
  for (const hop of await panel.locator('.hop').all()) {
    const shown = {} as ShownHop;
    for (const [field, name] of Object.entries(HOP_FIELDS)) {
      shown[field as keyof ShownHop] = (await hop.getAttribute(name)) ?? '';
    }
    hops.push(shown);
  }
  return {
    title: await attribute('data-title'),
    status: await attribute('data-status'),
    traceId: await attribute('data-trace-id'),
    requestId: await attribute('data-request-id'),
    hops,
  };
}
