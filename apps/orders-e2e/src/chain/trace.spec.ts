import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { InventorySubjects } from '@relay/contracts';

import { decodeHeader } from '../sessions/jws-header';
import { CLUSTER_START_TIMEOUT_MS, FaultCluster, ORDERS_SERVICE_CLIENT_ID } from '../support/fault-cluster';
import {
  type AttributeValue,
  describeSpans,
  OtlpReceiver,
  OtlpSpanKind,
  type ReceivedSpan,
} from '../support/otlp-receiver';
import { RelayClient } from '../support/relay-client';

const SKU = `sku-trace-${randomUUID().slice(0, 8)}`;
/** A vendor's opaque entries (W3C `tracestate`), which every hop must carry on untouched. */
const TRACESTATE = 'relaye2e=t61rcWkgMzE,congo=ucfJifl5GOE';

/** A user's session as the login answered it, and the password it was opened with. */
interface Session {
  userId: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

/** The five spans of HTTP → orders → `inventory.reserve` → inventory → `inventory.reserved` → orders. */
interface Chain {
  ordersHttp: ReceivedSpan;
  reserveClient: ReceivedSpan;
  reserveServer: ReceivedSpan;
  reservedProducer: ReceivedSpan;
  reservedConsumer: ReceivedSpan;
}

const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

function findSpan(spans: readonly ReceivedSpan[], service: string, kind: number, name: string) {
  return spans.find((span) => span.service === service && span.kind === kind && span.name === name);
}

function chainOf(spans: readonly ReceivedSpan[]): Partial<Chain> {
  return {
    ordersHttp: findSpan(spans, 'orders', OtlpSpanKind.server, 'POST /orders'),
    reserveClient: findSpan(spans, 'orders', OtlpSpanKind.client, InventorySubjects.reserve),
    reserveServer: findSpan(spans, 'inventory', OtlpSpanKind.server, InventorySubjects.reserve),
    reservedProducer: findSpan(spans, 'inventory', OtlpSpanKind.producer, InventorySubjects.reserved),
    reservedConsumer: findSpan(spans, 'orders', OtlpSpanKind.consumer, InventorySubjects.reserved),
  };
}

/**
 * The spans below `ancestor` (not itself) that `matches` accepts, within its own process: the walk
 * up from a span stops where the trace left `ancestor`'s service (orders' consumer span is below its
 * HTTP span, by way of inventory, yet is another call).
 */
function localDescendants(
  spans: readonly ReceivedSpan[],
  ancestor: ReceivedSpan,
  matches: (span: ReceivedSpan) => boolean,
): ReceivedSpan[] {
  const byId = new Map(spans.map((each) => [each.spanId, each]));
  const isBelow = (span: ReceivedSpan): boolean => {
    for (let current = span; current.service === ancestor.service; ) {
      const parent = current.parentSpanId === undefined ? undefined : byId.get(current.parentSpanId);
      if (parent === undefined) return false;
      if (parent.spanId === ancestor.spanId) return true;
      current = parent;
    }
    return false;
  };
  return spans.filter((span) => matches(span) && isBelow(span));
}

/** The spans whose parent is `parent` that `matches` accepts. */
function children(
  spans: readonly ReceivedSpan[],
  parent: ReceivedSpan,
  matches: (span: ReceivedSpan) => boolean,
): ReceivedSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId && matches(span));
}

const isVerification = (span: ReceivedSpan): boolean => span.name === 'relay.verify_token';
const isSql = (span: ReceivedSpan): boolean => span.attributes['db.system.name'] === 'postgresql';

/**
 * The trace is complete once the chain's five spans arrived, and the verifications and SQL
 * statements under orders' HTTP span and inventory's server span (three processes export on
 * their own schedule).
 */
function isComplete(spans: ReceivedSpan[]): boolean {
  const chain = chainOf(spans);
  const calls = [chain.ordersHttp, chain.reserveServer, chain.reservedConsumer];
  if (Object.values(chain).some((span) => span === undefined)) return false;
  return calls.every(
    (call) =>
      call !== undefined &&
      children(spans, call, isVerification).length > 0 &&
      localDescendants(spans, call, isSql).length > 0,
  );
}

function completeChain(spans: readonly ReceivedSpan[]): Chain {
  const chain = chainOf(spans);
  for (const [role, span] of Object.entries(chain)) {
    if (span === undefined) throw new Error(`no ${role} span in: ${describeSpans(spans)}`);
  }
  return chain as Chain;
}

/** Any compact JWS (a token of any kind: the caller's, an exchanged one, a service's). */
const COMPACT_JWS = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

const fingerprintOf = (token: string): string =>
  createHash('sha256').update(token).digest('hex').slice(0, 16);

/** Span names, attribute keys and string values that hold one of `secrets` or any token. */
function leaksIn(spans: readonly ReceivedSpan[], secrets: readonly string[]): string[] {
  const texts = spans.flatMap((span) => [
    span.name,
    ...Object.keys(span.attributes),
    ...Object.values(span.attributes).flatMap(stringsOf),
  ]);
  return texts.filter((text) => COMPACT_JWS.test(text) || secrets.some((secret) => text.includes(secret)));
}

/** Every string in an attribute value (arrays flattened). */
function stringsOf(value: AttributeValue): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.flatMap(stringsOf) : [];
}

/** A cluster of the three apps exporting their spans to a receiver of this test. */
class TracedStack {
  private constructor(
    readonly receiver: OtlpReceiver,
    private readonly cluster: FaultCluster,
    private readonly relay: RelayClient,
  ) {}

  /** Starts the receiver, then the apps (`ordersEnv` on top of orders' usual environment). */
  static async start(label: string, ordersEnv: Record<string, string> = {}): Promise<TracedStack> {
    const receiver = await OtlpReceiver.start();
    try {
      // a short batch delay so that spans arrive within a test's wait; every new trace recorded (the
      // default records a tenth of them), so the secrets scan sees register and login too. A caller's
      // flag is honoured either way: the unsampled case below holds under both samplers.
      const otel = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      };
      const cluster = await FaultCluster.start({
        label,
        env: { auth: otel, orders: { ...otel, ...ordersEnv }, inventory: otel },
      });
      const relay = new RelayClient(cluster);
      await relay.setStock(await relay.adminToken(), SKU, 1000);
      return new TracedStack(receiver, cluster, relay);
    } catch (error) {
      await receiver.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    await this.receiver.stop();
  }

  /** A new user and one login of theirs (the refresh token too, for the leak scan). */
  async newSession(): Promise<Session> {
    const user = await this.relay.newUser('trace');
    const login = await this.relay.login(user.email, user.password);
    const body = login.body as { access_token?: string; refresh_token?: string };
    if (login.status !== 200 || body.access_token === undefined || body.refresh_token === undefined) {
      throw new Error(`login answered ${login.status}`);
    }
    return {
      userId: user.id,
      password: user.password,
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
    };
  }

  /** Places one order under a `traceparent` of our own (and `tracestate`); expects it confirmed. */
  async placeTracedOrder(session: Session, flags: '01' | '00') {
    const traceId = randomHex(16);
    const parentSpanId = randomHex(8);
    const answer = await this.relay.placeOrder(session.accessToken, [{ sku: SKU, quantity: 1 }], {
      traceparent: `00-${traceId}-${parentSpanId}-${flags}`,
      tracestate: TRACESTATE,
    });
    expect(answer.status).toBe(201);
    expect(answer.body.status).toBe('confirmed');
    return { traceId, parentSpanId };
  }

  /** Places a sampled order and waits for its whole trace. */
  async tracedOrder(session: Session) {
    const { traceId, parentSpanId } = await this.placeTracedOrder(session, '01');
    const spans = await this.receiver.waitForTrace(traceId, isComplete);
    return { parentSpanId, spans, chain: completeChain(spans) };
  }
}

/**
 * HTTP → orders → `inventory.reserve` → inventory → `inventory.reserved` → orders as one trace,
 * exported by the three apps over OTLP/HTTP to a receiver inside this test, parent links and all.
 */
describe('one trace across the chain, exported over OTLP', () => {
  let stack: TracedStack;

  beforeAll(async () => {
    stack = await TracedStack.start('trace');
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('links every hop under the caller’s span, with token verifications and SQL on both services', async () => {
    const session = await stack.newSession();
    const { parentSpanId, spans, chain } = await stack.tracedOrder(session);

    // one tree: the caller's span is its only outside parent
    const ids = new Set(spans.map((span) => span.spanId));
    const dangling = spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId));
    expect(dangling.map((span) => span.spanId)).toEqual([chain.ordersHttp.spanId]);

    expect(chain.ordersHttp.parentSpanId).toBe(parentSpanId);
    expect(chain.reserveClient.parentSpanId).toBe(chain.ordersHttp.spanId);
    expect(chain.reserveServer.parentSpanId).toBe(chain.reserveClient.spanId);
    const isProducer = (span: ReceivedSpan): boolean => span === chain.reservedProducer;
    expect(localDescendants(spans, chain.reserveServer, isProducer)).toEqual([chain.reservedProducer]);
    expect(chain.reservedConsumer.parentSpanId).toBe(chain.reservedProducer.spanId);

    expect(chain.ordersHttp.attributes).toMatchObject({
      'http.response.status_code': 201,
      'enduser.id': session.userId,
      'relay.token.verdict': 'accepted',
    });
    for (const span of [chain.reserveClient, chain.reservedProducer]) {
      expect(span.attributes).toMatchObject({
        'messaging.system': 'nats',
        'messaging.destination.name': span.name,
      });
    }
    for (const span of [chain.reserveServer, chain.reservedConsumer]) {
      expect(span.attributes).toMatchObject({
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'enduser.id': session.userId,
        'relay.token.verdict': 'accepted',
      });
    }

    // forward propagation: every call checks the user's own token
    const expected = {
      'enduser.id': session.userId,
      'relay.token.verdict': 'accepted',
      'relay.token.kid': decodeHeader(session.accessToken).kid,
      'relay.token.fingerprint': fingerprintOf(session.accessToken),
    };
    const verifications = [
      { call: chain.ordersHttp, transport: 'http' },
      { call: chain.reserveServer, transport: 'nats' },
      { call: chain.reservedConsumer, transport: 'nats' },
    ];
    for (const { call, transport } of verifications) {
      const [verification, ...more] = children(spans, call, isVerification);
      expect(more).toEqual([]);
      expect(verification.service).toBe(call.service);
      expect(verification.kind).toBe(OtlpSpanKind.internal);
      expect(verification.attributes).toMatchObject({ ...expected, 'relay.transport': transport });
      expect(verification.attributes['relay.token.audience']).toEqual(expect.arrayContaining(['orders']));
      expect(typeof verification.attributes['relay.token.cache_hit']).toBe('boolean');
      // a forwarded token acts for no one
      expect(verification.attributes['relay.token.act']).toBeUndefined();
    }

    // orders stores the order, inventory the reservation, orders' consumer the acknowledgement
    for (const call of [chain.ordersHttp, chain.reserveServer, chain.reservedConsumer]) {
      const statements = localDescendants(spans, call, isSql);
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.kind).toBe(OtlpSpanKind.client);
        expect(statement.name).toBe(statement.attributes['db.operation.name']);
        expect(statement.attributes['db.query.text']).toEqual(expect.stringMatching(/^\s*[A-Za-z]+/));
      }
    }
  });

  it('carries the caller’s tracestate unchanged to every span of every service', async () => {
    const session = await stack.newSession();
    const { spans, chain } = await stack.tracedOrder(session);

    // the SDK gives each span its parent's tracestate: inventory's proves the NATS hop carried it
    expect(chain.reserveServer.traceState).toBe(TRACESTATE);
    expect(chain.reservedConsumer.traceState).toBe(TRACESTATE);
    expect(spans.filter((span) => span.traceState !== TRACESTATE)).toEqual([]);
  });

  it('records nothing of a trace its caller did not sample, and still places the order', async () => {
    const session = await stack.newSession();
    const unsampled = await stack.placeTracedOrder(session, '00');
    // a sampled order placed afterwards: once its trace is complete, the unsampled one's spans, had
    // any been recorded, would have been exported before it by the same three batch processors
    await stack.tracedOrder(session);

    expect(describeSpans(stack.receiver.trace(unsampled.traceId))).toBe('no spans');
  });

  it('never exports a token, refresh token or password in any span of any service', async () => {
    const session = await stack.newSession();
    await stack.tracedOrder(session);

    // the scan covers every service (auth's register and login too), not only the order's trace
    const spans = stack.receiver.spans;
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['auth', 'orders', 'inventory']));
    expect(leaksIn(spans, [session.accessToken, session.refreshToken, session.password])).toEqual([]);
    expect(stack.receiver.rejected).toEqual([]);
  });
});

/** With PROPAGATION_MODE=exchange inventory checks another token: the span says whose and for whom. */
describe('one trace across the chain when orders exchanges the caller’s token', () => {
  let stack: TracedStack;

  beforeAll(async () => {
    stack = await TracedStack.start('trace-exchange', { PROPAGATION_MODE: 'exchange' });
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('records inventory’s check of the exchanged token: the same user, orders acting, inventory’s audience', async () => {
    const session = await stack.newSession();
    const { spans, chain } = await stack.tracedOrder(session);

    expect(chain.reserveServer.parentSpanId).toBe(chain.reserveClient.spanId);
    expect(chain.reservedConsumer.parentSpanId).toBe(chain.reservedProducer.spanId);

    const [atOrders] = children(spans, chain.ordersHttp, isVerification);
    expect(atOrders.attributes).toMatchObject({
      'enduser.id': session.userId,
      'relay.token.fingerprint': fingerprintOf(session.accessToken),
    });
    expect(atOrders.attributes['relay.token.act']).toBeUndefined();

    const [atInventory] = children(spans, chain.reserveServer, isVerification);
    expect(atInventory.attributes).toMatchObject({
      'enduser.id': session.userId,
      'relay.token.verdict': 'accepted',
      'relay.token.act': ORDERS_SERVICE_CLIENT_ID,
      'relay.token.kid': decodeHeader(session.accessToken).kid,
    });
    // another token, narrowed to inventory
    expect(atInventory.attributes['relay.token.fingerprint']).toEqual(
      expect.stringMatching(/^[0-9a-f]{16}$/),
    );
    expect(atInventory.attributes['relay.token.fingerprint']).not.toBe(fingerprintOf(session.accessToken));
    expect(atInventory.attributes['relay.token.audience']).toEqual(['inventory']);

    expect(
      leaksIn(stack.receiver.spans, [session.accessToken, session.refreshToken, session.password]),
    ).toEqual([]);
  });
});
