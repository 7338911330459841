import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // spec helpers (src/testing/, excluded from the build) may use @relay/testing like the specs (STYLE §2.4)
    files: ['src/testing/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: ['@relay/testing'],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'],
            },
          ],
        },
      ],
    },
  },
];
