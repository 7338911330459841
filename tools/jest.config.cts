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
  // tools/nx-plugin is a project of its own, with its own tests
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/nx-plugin/'],
  coverageDirectory: '../coverage/tools',
};
