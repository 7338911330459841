module.exports = {
  displayName: 'tools',
  preset: '../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  // plain CommonJS run as is (tools/scripts/*.cjs, @relay/nats-bus): specs require them untransformed
  moduleFileExtensions: ['ts', 'js', 'cjs'],
  transformIgnorePatterns: ['/node_modules/', '\\.cjs$', '/libs/nats-bus/src/.+\\.js$'],
  coverageDirectory: '../coverage/tools',
};
