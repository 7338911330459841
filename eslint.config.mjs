import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/.data', 'bench/results'],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          // auth-lib is the one buildable library, and its build (libs/auth/build-package.mjs)
          // compiles the workspace code it imports into the package: no buildable-to-buildable rule
          enforceBuildableLibDependency: false,
          // @relay/testing loads it lazily (a closed bus only) so the packed test kit can do without
          // its certificate and NKey packages; its own specs import it as usual
          checkDynamicDependenciesExceptions: ['@relay/nats-bus'],
          // the apps' webpack configs share tools/webpack (build tooling, not a library)
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$', '^(\\.\\./)+tools/webpack/'],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:testing', 'type:deployment'],
            },
            {
              sourceTag: 'type:bench',
              onlyDependOnLibsWithTags: [
                'type:platform',
                'type:contracts',
                'type:testing',
                'type:deployment',
              ],
            },
            {
              sourceTag: 'type:platform',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'],
            },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:deployment'],
            },
            {
              sourceTag: 'type:tooling',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:deployment'],
            },
            // @relay/nats-bus: the closed bus's permissions and material (demo, compose, tests)
            { sourceTag: 'type:deployment', onlyDependOnLibsWithTags: [] },
            {
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: [
                '@nestjs/core',
                '@nestjs/microservices',
                'nats',
                'jose',
                'pg',
                '@electric-sql/*',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    // Type-aware rules (STYLE §2.11): a promise nobody awaits or catches, a promise where a callback
    // must return void, a switch over a union that misses a member, an async function with no await.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/require-await': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // a parameter a decorator needs but the body does not read (`@Body() _body: EmptyBody`)
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_' }],
      curly: ['error', 'multi-line'],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      // Config and DTO classes annotate field types on purpose: the annotation is the design:type
      // metadata that class-transformer converts environment strings with.
      '@typescript-eslint/no-inferrable-types': ['error', { ignoreProperties: true }],
      'max-lines': ['warn', { max: 300, skipBlankLines: true, skipComments: true }],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'jsonwebtoken',
              message: 'Verify with jose through @relay/auth.',
            },
          ],
          patterns: [
            {
              group: ['@relay/*/**'],
              message: 'Import a lib only through its index.',
            },
          ],
        },
      ],
    },
  },
  {
    // Specs may also use the test kit (STYLE.md §2.4: `testing` is imported only by specs and e2e).
    files: ['**/*.spec.ts'],
    rules: {
      'max-lines': 'off',
      // and @relay/auth's own test kit, the entry point adopters' specs import (its package exports)
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'jsonwebtoken', message: 'Verify with jose through @relay/auth.' }],
          patterns: [
            {
              group: ['@relay/*/**', '!@relay/auth/testing'],
              message: 'Import a lib only through its index.',
            },
          ],
        },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          checkDynamicDependenciesExceptions: ['@relay/nats-bus'],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:testing', 'type:deployment'],
            },
            {
              sourceTag: 'type:platform',
              onlyDependOnLibsWithTags: [
                'type:platform',
                'type:contracts',
                'type:testing',
                'type:deployment',
              ],
            },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:testing', 'type:deployment'],
            },
            {
              sourceTag: 'type:tooling',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:deployment'],
            },
            {
              sourceTag: 'type:deployment',
              onlyDependOnLibsWithTags: ['type:testing', 'type:deployment'],
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/*-e2e/**/*.ts'],
    rules: {
      'max-lines': 'off',
    },
  },
];
