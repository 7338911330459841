import baseConfig from '../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // register.js is a CommonJS `node -r` hook: it must patch Node's resolver before any TypeScript loads.
    files: ['register.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
