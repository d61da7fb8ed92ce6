/**
 * Browser measurements (`make bench-ui`): the same server and browser as the tests, one worker.
 */
const base = require('./playwright.config');

module.exports = {
  ...base,
  testDir: 'benchmarks',
  testMatch: '**/*.bench.ts',
  timeout: 600000
};
