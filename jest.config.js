/** Every test of the suite: unit tests of pure logic, and integration tests that start a
 * real nats-server and use real PostgreSQL databases (see test/support). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/services', '<rootDir>/gateway', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testTimeout: 120000,
  // Integration tests each start their own nats-server and database; two at a time fits
  // the two-core machines CI runs on.
  maxWorkers: 2,
};
