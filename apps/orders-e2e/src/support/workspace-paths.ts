import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { register } from 'tsconfig-paths';

// Jest loads globalSetup and globalTeardown outside the resolver it gives specs, so the workspace's
// `@relay/*` paths would not resolve there. Imported first by both: maps them as the specs see them.
const root = join(__dirname, '../../../..');
const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};
register({ baseUrl: root, paths: base.compilerOptions.paths, addMatchAll: false });
