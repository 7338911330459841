// Loaded with `node -r`: compiles the bench's TypeScript on the fly (ts-node, transpile only) and
// resolves the workspace's `@relay/*` aliases from tsconfig.base.json, so the bench runs the libs'
// sources without a build step.
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
process.env.TS_NODE_PROJECT ??= path.join(__dirname, 'tsconfig.app.json');
process.env.TS_NODE_TRANSPILE_ONLY ??= 'true';
require('ts-node').register({ transpileOnly: true, project: process.env.TS_NODE_PROJECT });

// the same mapping the e2e suite's global setup registers (apps/orders-e2e/src/support/workspace-paths.ts)
const base = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
require('tsconfig-paths').register({ baseUrl: root, paths: base.compilerOptions.paths, addMatchAll: false });
