/** Jest: ts-jest for our TypeScript and for ESM-only middy (which Jest cannot load as is). */
module.exports = {
  testEnvironment: '<rootDir>/test/support/environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.m?[tj]s$': ['ts-jest', { tsconfig: { module: 'commonjs', allowJs: true, isolatedModules: true, esModuleInterop: true, resolveJsonModule: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  setupFiles: ['<rootDir>/test/support/env.ts'],
  // One DynamoDB engine for the whole run (DynamoDB Local, or DYNAMODB_ENDPOINT's); each file makes its own tables.
  globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
  testTimeout: 60000,
};
