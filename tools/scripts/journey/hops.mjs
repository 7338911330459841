// Called by tools/scripts/journey/journey-server.mjs: turns one trace's spans into the hops the journey page shows.

/** Span kinds that cross a process boundary: each such span is one hop. */
const HOP_KINDS = new Set(['server', 'consumer', 'client', 'producer']);
const SENDING_KINDS = new Set(['client', 'producer']);

/** Attribute names the apps' spans carry (libs/auth call-context and telemetry, libs/database). */
const ATTR = {
  method: 'http.request.method',
  route: 'http.route',
  httpStatus: 'http.response.status_code',
  rpcStatus: 'rpc.response.status_code',
  messaging: 'messaging.system',
  requestId: 'relay.request_id',
  verdict: 'relay.token.verdict',
  enduser: 'enduser.id',
  transport: 'relay.transport',
  audience: 'relay.token.audience',
  act: 'relay.token.act',
  kid: 'relay.token.kid',
  fingerprint: 'relay.token.fingerprint',
  cacheHit: 'relay.token.cache_hit',
  clientId: 'relay.token.client_id',
  tokenError: 'relay.token.error',
  dbSystem: 'db.system.name',
};

/** The span name of a token verification (libs/auth/src/lib/telemetry/verification-span.ts). */
export const VERIFY_SPAN = 'relay.verify_token';

/**
 * @typedef {object} TokenSeen what a service learnt of the token a hop carried: never the token
 * @property {string | undefined} subject `sub` (`enduser.id`)
 * @property {string[]} audience
 * @property {string | undefined} act the actor (`act.sub`) of an exchanged token
 * @property {string | undefined} kid
 * @property {string | undefined} fingerprint first 16 hex digits of the token's SHA-256
 * @property {string | undefined} clientId
 * @property {string | undefined} verdict accepted | refused | forbidden
 * @property {boolean | undefined} cacheHit whether the verifier's cache answered
 * @property {string | undefined} error the refusal's code
 * @property {string} verifiedBy the service whose verification span this is
 */

/**
 * @typedef {object} Hop one span that crossed a process boundary
 * @property {number} index 1-based position in the journey
 * @property {string} spanId
 * @property {string | undefined} parentSpanId
 * @property {string} traceId
 * @property {string} kind server | consumer | client | producer
 * @property {'http' | 'nats' | 'other'} transport
 * @property {string} name route template (`POST /orders`) or NATS subject
 * @property {string} service the service that recorded the span
 * @property {string} from who sent: `client` (outside the trace), a service name
 * @property {string} to who received: a service name, or the subject while no receiver reported
 * @property {number | undefined} status HTTP or RPC status code
 * @property {string | undefined} requestId `x-request-id` of the call (an enclosing call's when the span has none)
 * @property {string} verdict accepted | refused | forbidden | none (the receiver's for a sending hop)
 * @property {TokenSeen | undefined} token
 * @property {boolean} tokenSeenByReceiver true for a sending hop: its receiver verified the token
 * @property {number} startMs
 * @property {number} durationMs
 * @property {number} offsetMs start relative to the journey's first hop
 * @property {number} sqlStatements SQL spans under this hop (not under a nested hop)
 * @property {boolean} isError
 */

/**
 * Assembles the hops of one trace: every server, consumer, client and producer span except SQL
 * (a database call is part of its hop, counted there), in call order (depth first, siblings by
 * start time), each with the token its verification span saw. A sending hop (NATS client or
 * producer) shows the token as its receiver verified it: what actually travelled on the wire.
 *
 * @param {import('./otlp-receiver.mjs').Span[]} spans one trace's spans
 * @returns {Hop[]}
 */
export function assembleHops(spans) {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const children = childrenOf(spans, byId);
  const isHop = (span) => HOP_KINDS.has(span.kind) && span.attributes[ATTR.dbSystem] === undefined;
  const ordered = depthFirst(spans, byId, children).filter(isHop);
  const origin = ordered.length > 0 ? Math.min(...ordered.map((span) => span.startMs)) : 0;
  const receiverOf = (span) => (children.get(span.spanId) ?? []).find((child) => isReceiving(child));
  return ordered.map((span, position) => {
    const receiver = SENDING_KINDS.has(span.kind) ? receiverOf(span) : undefined;
    const ownToken = tokenOf(span, children);
    const token = receiver === undefined ? ownToken : tokenOf(receiver, children);
    return {
      index: position + 1,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      traceId: span.traceId,
      kind: span.kind,
      transport: transportOf(span),
      name: span.name,
      service: span.service,
      from: SENDING_KINDS.has(span.kind) ? span.service : senderOf(span, byId),
      to: SENDING_KINDS.has(span.kind) ? (receiver?.service ?? span.name) : span.service,
      status: numberOf(span.attributes[ATTR.httpStatus] ?? span.attributes[ATTR.rpcStatus]),
      requestId: requestIdOf(span, byId) ?? (receiver && requestIdOf(receiver, byId)),
      verdict: verdictOf(receiver ?? span, token),
      token,
      tokenSeenByReceiver: receiver !== undefined && token !== undefined,
      startMs: span.startMs,
      durationMs: span.durationMs,
      offsetMs: toMicroseconds(span.startMs - origin),
      sqlStatements: countSql(span, children, isHop),
      isError: span.isError,
    };
  });
}

function isReceiving(span) {
  return span.kind === 'server' || span.kind === 'consumer';
}

function childrenOf(spans, byId) {
  const children = new Map();
  for (const span of spans) {
    if (span.parentSpanId === undefined || !byId.has(span.parentSpanId)) continue;
    const siblings = children.get(span.parentSpanId) ?? [];
    siblings.push(span);
    children.set(span.parentSpanId, siblings);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => a.startMs - b.startMs);
  return children;
}

// roots are spans whose parent is outside the trace we hold (the page's own span, or not exported yet)
function depthFirst(spans, byId, children) {
  const roots = spans
    .filter((span) => span.parentSpanId === undefined || !byId.has(span.parentSpanId))
    .sort((a, b) => a.startMs - b.startMs);
  const ordered = [];
  const visit = (span) => {
    ordered.push(span);
    for (const child of children.get(span.spanId) ?? []) visit(child);
  };
  for (const root of roots) visit(root);
  return ordered;
}

function transportOf(span) {
  const attributes = span.attributes;
  if (attributes[ATTR.messaging] === 'nats') return 'nats';
  if (attributes[ATTR.method] !== undefined || attributes[ATTR.transport] === 'http') return 'http';
  return 'other';
}

// the sending hop's service for a message, `client` for a call from outside the trace
function senderOf(span, byId) {
  const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
  return parent === undefined ? 'client' : parent.service;
}

/** The token a receiving span's verification saw (the verification span is its child). */
function tokenOf(span, children) {
  const verification = (children.get(span.spanId) ?? []).findLast((child) => child.name === VERIFY_SPAN);
  if (verification === undefined) return undefined;
  const a = verification.attributes;
  const audience = a[ATTR.audience];
  return {
    subject: stringOf(a[ATTR.enduser]) ?? stringOf(span.attributes[ATTR.enduser]),
    audience: Array.isArray(audience)
      ? audience.map(String)
      : audience === undefined
        ? []
        : [String(audience)],
    act: stringOf(a[ATTR.act]),
    kid: stringOf(a[ATTR.kid]),
    fingerprint: stringOf(a[ATTR.fingerprint]),
    clientId: stringOf(a[ATTR.clientId]),
    verdict: stringOf(a[ATTR.verdict]),
    cacheHit: typeof a[ATTR.cacheHit] === 'boolean' ? a[ATTR.cacheHit] : undefined,
    error: stringOf(a[ATTR.tokenError]),
    verifiedBy: verification.service,
  };
}

function verdictOf(span, token) {
  return stringOf(span.attributes[ATTR.verdict]) ?? token?.verdict ?? 'none';
}

// a NATS client span carries no request id of its own: the call it was made for has it
function requestIdOf(span, byId) {
  for (let current = span; current !== undefined; current = byId.get(current.parentSpanId ?? '')) {
    const id = stringOf(current.attributes[ATTR.requestId]);
    if (id !== undefined) return id;
    if (current.service !== span.service) return undefined;
  }
  return undefined;
}

function countSql(span, children, isHop) {
  let count = 0;
  for (const child of children.get(span.spanId) ?? []) {
    if (child.attributes[ATTR.dbSystem] !== undefined) count += 1;
    if (!isHop(child)) count += countSql(child, children, isHop);
  }
  return count;
}

// epoch milliseconds as a double keep about a quarter of a microsecond: no more is claimed
function toMicroseconds(ms) {
  return Math.round(ms * 1000) / 1000;
}

function stringOf(value) {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberOf(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
