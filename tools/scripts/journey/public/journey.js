// Loaded by tools/scripts/journey/public/index.html: drives login, order and logout, and draws each call's journey from the apps' spans.

/** How often the page asks for a trace's hops, and for how long. */
const POLL_EVERY_MS = 250;
const POLL_FOR_MS = 30_000;
/** A journey counts as complete once no new hop arrived for this long after the answer. */
const QUIET_MS = 6_000;

/**
 * The session lives in this module only (never in storage, never in the DOM): the tokens go to
 * the apps and nowhere else.
 */
const session = { accessToken: undefined, refreshToken: undefined, email: undefined };

const $ = (id) => document.getElementById(id);

/** Journeys drawn so far: each panel's `data-seq`, so a reader can wait for the next one. */
let journeyCount = 0;

document.addEventListener('DOMContentLoaded', () => {
  $('email').value = `journey-${randomHex(4)}@relay.demo`;
  $('password').value = 'journey-password-1';
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void logIn(event.submitter?.dataset.action === 'signup');
  });
  $('order-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void placeOrder();
  });
  $('logout-button').addEventListener('click', () => void logOut());
  $('retry-button').addEventListener('click', () => void placeOrder('Retry with the same token'));
});

async function logIn(signUpFirst) {
  const credentials = { email: $('email').value.trim(), password: $('password').value };
  const status = $('login-status');
  status.textContent = signUpFirst ? 'Signing up…' : 'Logging in…';
  if (signUpFirst) {
    const registered = await relay('auth', 'POST', '/auth/register', { body: credentials });
    if (registered.status !== 201 && registered.status !== 409) {
      status.textContent = `Sign-up answered ${registered.status}: ${messageOf(registered.body)}`;
      return;
    }
  }
  const login = await relay('auth', 'POST', '/auth/login', { body: credentials });
  if (login.status !== 200) {
    status.textContent = `Login answered ${login.status}: ${messageOf(login.body)}`;
    return;
  }
  session.accessToken = login.body.access_token;
  session.refreshToken = login.body.refresh_token;
  session.email = credentials.email;
  const ownFingerprint = await fingerprint(session.accessToken);
  status.textContent = `Logged in as ${credentials.email}. Your access token's fingerprint: ${ownFingerprint}`;
  status.dataset.fingerprint = ownFingerprint;
  $('order-step').hidden = false;
  $('logout-step').hidden = false;
  $('logout-button').disabled = false;
  $('retry-button').disabled = true;
}

async function placeOrder(title = 'Order') {
  if (session.accessToken === undefined) return;
  const items = [{ sku: $('sku').value, quantity: Number($('quantity').value) }];
  await followCall(title, 'orders', 'POST', '/orders', {
    body: { items },
    token: session.accessToken,
    headers: { 'idempotency-key': crypto.randomUUID() },
  });
}

async function logOut() {
  if (session.refreshToken === undefined) return;
  $('logout-button').disabled = true;
  const answer = await followCall('Log out', 'auth', 'POST', '/auth/logout', {
    body: { refresh_token: session.refreshToken },
    token: session.accessToken,
  });
  if (answer.status === 204) {
    // the access token stays, to show where it is refused now
    session.refreshToken = undefined;
    $('retry-button').disabled = false;
  } else {
    $('logout-button').disabled = false;
  }
}

/**
 * Makes one call with a trace id and request id of the page's own, then draws the journey of that
 * trace as the services' spans arrive.
 */
async function followCall(title, service, method, path, options) {
  const traceId = randomHex(16);
  const requestId = `journey-${randomHex(6)}`;
  const view = journeyView(title, traceId, requestId);
  const polling = pollJourney(view, traceId);
  const answer = await relay(service, method, path, {
    ...options,
    headers: {
      ...options.headers,
      traceparent: `00-${traceId}-${randomHex(8)}-01`,
      'x-request-id': requestId,
    },
  });
  view.answered(answer);
  await polling;
  return answer;
}

async function pollJourney(view, traceId) {
  const started = Date.now();
  let hopCount = 0;
  let changedAt = started;
  while (Date.now() - started < POLL_FOR_MS) {
    try {
      const response = await fetch(`/api/traces/${traceId}`, { cache: 'no-store' });
      if (response.ok) {
        const journey = await response.json();
        if (journey.hops.length !== hopCount || journey.hops.some(isPending)) {
          if (journey.hops.length !== hopCount) changedAt = Date.now();
          hopCount = journey.hops.length;
          view.drawHops(journey.hops);
        }
      }
    } catch {
      // the journey server restarting: try again on the next tick
    }
    if (view.isAnswered() && hopCount > 0 && Date.now() - changedAt >= QUIET_MS) break;
    await sleep(POLL_EVERY_MS);
  }
  view.settled(hopCount);
}

// a sending hop whose receiver has not reported yet: its `to` is still the subject
const isPending = (hop) => (hop.kind === 'client' || hop.kind === 'producer') && hop.to === hop.name;

/** One journey panel: header with the call's answer and ids, then its hops. */
function journeyView(title, traceId, requestId) {
  const article = $('journey-template').content.firstElementChild.cloneNode(true);
  journeyCount += 1;
  article.dataset.seq = String(journeyCount);
  article.dataset.title = title;
  article.dataset.requestId = requestId;
  article.dataset.traceId = traceId;
  article.dataset.state = 'listening';
  article.querySelector('.journey-title').textContent = title;
  article.querySelector('.journey-trace-id').textContent = traceId;
  article.querySelector('.journey-request-id').textContent = requestId;
  article.querySelector('.journey-state').textContent = 'waiting for spans…';
  $('journeys').prepend(article);
  let answered = false;
  return {
    answered(answer) {
      answered = true;
      article.dataset.status = String(answer.status);
      const badge = article.querySelector('.journey-answer');
      badge.textContent = `${answer.status} ${summaryOf(answer)}`;
      badge.classList.add(answer.status < 400 ? 'ok' : 'refused');
    },
    isAnswered: () => answered,
    drawHops(hops) {
      article.querySelector('.hops').replaceChildren(...hops.map(hopElement));
      article.querySelector('.journey-state').textContent =
        `${hops.length} hop${hops.length === 1 ? '' : 's'}, listening…`;
    },
    settled(hopCount) {
      article.dataset.state = 'settled';
      article.querySelector('.journey-state').textContent =
        hopCount === 0
          ? 'no spans arrived (is OTEL_EXPORTER_OTLP_ENDPOINT set on the apps?)'
          : `${hopCount} hop${hopCount === 1 ? '' : 's'}`;
    },
  };
}

function summaryOf(answer) {
  if (answer.body?.status !== undefined) return String(answer.body.status);
  if (answer.status === 204) return 'no content';
  return messageOf(answer.body);
}

const TRANSPORT_LABEL = { http: 'HTTP', nats: 'NATS', other: '' };
const KIND_LABEL = { server: 'request', client: 'request', producer: 'event', consumer: 'event' };

function hopElement(hop) {
  const item = element('li', 'hop');
  const token = hop.token;
  Object.assign(item.dataset, {
    index: String(hop.index),
    from: hop.from,
    to: hop.to,
    service: hop.service,
    kind: hop.kind,
    transport: hop.transport,
    name: hop.name,
    status: hop.status === undefined ? '' : String(hop.status),
    verdict: hop.verdict,
    fingerprint: token?.fingerprint ?? '',
    act: token?.act ?? '',
    cacheHit: token?.cacheHit === undefined ? '' : String(token.cacheHit),
    traceId: hop.traceId,
    requestId: hop.requestId ?? '',
  });
  item.classList.add(`verdict-${hop.verdict}`);

  const head = element('div', 'hop-head');
  head.append(
    element('span', 'hop-index', String(hop.index)),
    element('span', 'hop-route', `${hop.from} → ${hop.to}`),
    element(
      'span',
      `hop-transport ${hop.transport}`,
      `${TRANSPORT_LABEL[hop.transport]} ${KIND_LABEL[hop.kind] ?? ''}`.trim(),
    ),
    element('code', 'hop-name', hop.name),
    element('span', 'hop-status', hop.status === undefined ? '' : String(hop.status)),
    element('span', `hop-verdict ${hop.verdict}`, hop.verdict),
  );
  item.append(head, tokenElement(hop), metaElement(hop));
  return item;
}

function tokenElement(hop) {
  const token = hop.token;
  const list = element('dl', 'hop-token');
  if (token === undefined) {
    list.append(
      element('dt', '', 'token'),
      element('dd', 'none', hop.verdict === 'none' ? 'none checked' : '—'),
    );
    return list;
  }
  const swatch = element('span', 'swatch');
  if (token.fingerprint !== undefined) swatch.style.setProperty('background', colourOf(token.fingerprint));
  const fingerprintValue = element('dd', 'fingerprint');
  fingerprintValue.append(swatch, element('code', '', token.fingerprint ?? '—'));
  const rows = [
    ['subject', token.subject ?? '—'],
    ['audience', token.audience.length > 0 ? token.audience.join(', ') : '—'],
    ['act', token.act ?? '—'],
    ['key id', token.kid ?? '—'],
  ];
  for (const [name, value] of rows) list.append(element('dt', '', name), element('dd', '', value));
  list.append(element('dt', '', 'fingerprint'), fingerprintValue);
  list.append(element('dt', '', 'cache'), element('dd', '', cacheText(token.cacheHit)));
  if (token.error !== undefined)
    list.append(element('dt', '', 'refused for'), element('dd', 'error', token.error));
  if (hop.tokenSeenByReceiver) list.append(element('dt', '', 'seen by'), element('dd', '', token.verifiedBy));
  return list;
}

function cacheText(cacheHit) {
  if (cacheHit === undefined) return '—';
  return cacheHit ? 'hit (verified before)' : 'miss (signature checked)';
}

function metaElement(hop) {
  const meta = element('p', 'hop-meta');
  meta.append(
    element('span', 'duration', `${hop.durationMs.toFixed(1)} ms`),
    element('span', '', `at +${hop.offsetMs.toFixed(1)} ms`),
    element('span', '', `${hop.sqlStatements} SQL`),
    labelled('trace', hop.traceId),
    labelled('span', hop.spanId),
    labelled('request', hop.requestId ?? '—'),
  );
  return meta;
}

function labelled(label, value) {
  const span = element('span', '', `${label} `);
  span.append(element('code', '', value));
  return span;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One call to an app through the journey server (same origin: the apps send no CORS headers). */
async function relay(service, method, path, { body, token, headers = {} } = {}) {
  const response = await fetch(`/relay/${service}${path}`, {
    method,
    cache: 'no-store',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed };
}

function messageOf(body) {
  const message = body?.message ?? body?.error ?? '';
  return Array.isArray(message) ? message.join('; ') : String(message);
}

/** The same fingerprint the services put on their spans: the first 16 hex digits of SHA-256. */
async function fingerprint(token) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)]
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
    .slice(0, 16);
}

// one colour per token, so the eye follows it from hop to hop
function colourOf(fingerprintHex) {
  return `hsl(${parseInt(fingerprintHex.slice(0, 4), 16) % 360} 70% 45%)`;
}

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('');
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
