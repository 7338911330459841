import baseConfig from '../../eslint.config.mjs';

export default [
  // adopter/ is an app outside the monorepo (its own package.json, compiler and tests), copied to a
  // temporary directory by the spec: the workspace's rules and module boundaries do not apply to it
  { ignores: ['adopter/**'] },
  ...baseConfig,
];
