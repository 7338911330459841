// `nx e2e nx-plugin`: generates services in a scratch copy of the workspace and builds, lints and
// tests them there (service.e2e-spec.ts). Not `jest.config.*`: the unit `test` target leaves it out.
module.exports = {
  displayName: 'nx-plugin-e2e',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 600_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  coverageDirectory: '../../coverage/tools/nx-plugin-e2e',
};
