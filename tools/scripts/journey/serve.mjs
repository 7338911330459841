// Called by the orders-e2e journey spec (and by hand): runs the token's journey page on its own for apps already started elsewhere.
import { parseArgs } from 'node:util';

import { startJourney } from './index.mjs';

const USAGE =
  'usage: node tools/scripts/journey/serve.mjs [--port 3100] [--auth URL] [--orders URL] [--inventory URL]';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3100' },
    host: { type: 'string', default: '127.0.0.1' },
    auth: { type: 'string', default: 'http://127.0.0.1:3000' },
    orders: { type: 'string', default: 'http://127.0.0.1:3001' },
    inventory: { type: 'string', default: 'http://127.0.0.1:3002' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(USAGE);
  process.exit(2);
}

const journey = await startJourney({
  port,
  host: values.host,
  relayUrls: { auth: values.auth, orders: values.orders, inventory: values.inventory },
});
// one line a parent process can wait for; the apps export to OTEL_EXPORTER_OTLP_ENDPOINT=<otlp>
console.log(`[journey] page ${journey.url} otlp ${journey.otlpEndpoint}`);

const stop = () => void journey.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
