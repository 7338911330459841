module.exports = {
  displayName: 'adopter-e2e',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // adopter/ is the adopter's own app, with its own spec: it runs in its own directory, not here
  roots: ['<rootDir>/src'],
  testTimeout: 60_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  coverageDirectory: '../../coverage/apps/adopter-e2e',
};
