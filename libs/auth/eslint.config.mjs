import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // specs and their helpers may use @relay/testing (STYLE §2.5)
    files: ['**/*.spec.ts', 'src/test-support/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: ['@relay/testing'],
          depConstraints: [
            {
              sourceTag: 'type:platform',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'],
            },
          ],
        },
      ],
    },
  },
];
