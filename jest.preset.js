const { join } = require('node:path');

const nxPreset = require('@nx/jest/preset').default;

module.exports = {
  ...nxPreset,
  // Specs close what they open; on CI a leaked handle must still not hang the run for 90 minutes.
  forceExit: process.env.CI === 'true',
  // Specs talk to a real NATS and database; opening embedded PGlite (a WASM PostgreSQL) alone can take
  // several seconds on a loaded 2-core machine, over Jest's 5 s default for a hook.
  testTimeout: 30_000,
  // @relay/nats-bus is plain JavaScript beside its .d.ts; Nx's resolver would pick the .d.ts
  moduleNameMapper: { '^@relay/nats-bus$': join(__dirname, 'libs/nats-bus/src/closed-bus.js') },
  // …and runs as it is: it is CommonJS already
  transformIgnorePatterns: ['/node_modules/', '/libs/nats-bus/src/.+\\.js$'],
};
