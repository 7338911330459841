// Loaded with `node -r`: compiles the bench's TypeScript on the fly (ts-node, transpile only) and
// resolves the workspace's `@relay/*` aliases from tsconfig.base.json, so the bench runs the libs'
// sources without a build step.
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
process.env.TS_NODE_PROJECT ??= path.join(__dirname, 'tsconfig.json');
process.env.TS_NODE_TRANSPILE_ONLY ??= 'true';
require('ts-node').register({ transpileOnly: true, project: process.env.TS_NODE_PROJECT });

const base = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const aliases = new Map(
  Object.entries(base.compilerOptions.paths ?? {}).map(([name, [target]]) => [name, path.join(root, target)]),
);
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveAlias(request, ...rest) {
  const target = aliases.get(request);
  return resolveFilename.call(this, target ?? request, ...rest);
};
