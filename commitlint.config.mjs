// Conventional Commits by project (STYLE 2.11): `feat(orders): keep failed orders…`; several scopes
// as `refactor(testing,orders-e2e): …`. tools/repo/commitlint.spec.ts keeps the list equal to the
// workspace's projects.
export const PROJECT_SCOPES = [
  'adopter-e2e',
  'auth',
  'auth-lib',
  'bench',
  'bootstrap',
  'config',
  'contracts',
  'database',
  'health',
  'inventory',
  'nats-bus',
  'nx-plugin',
  'observability',
  'orders',
  'orders-e2e',
  'testing',
  'tools',
];

export default {
  extends: ['@commitlint/config-conventional'],
  rules: {
    'scope-enum': [2, 'always', [...PROJECT_SCOPES, 'repo', 'deps', 'ci']],
    'scope-empty': [2, 'never'],
    // subjects may start with a name in capitals: `perf(auth-lib): JWKS keys…`, `NATS client…`
    'subject-case': [0],
  },
};
