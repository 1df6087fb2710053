// ESM + TypeScript: ts-jest transpiles each file on its own (isolatedModules); `npm run build` does the
// type checking, so the test runner stays fast.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/controller', '<rootDir>/provider', '<rootDir>/test-support'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  // Suites start real servers and daemons; two workers match the two cores of our machines.
  maxWorkers: 2,
  watchman: false,
};
