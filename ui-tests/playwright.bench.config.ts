/**
 * Browser measurements (`make bench-ui`, `make stress`): the same server and browser as the tests, one worker,
 * and the JS garbage collector exposed so memory figures count live objects, not garbage.
 */
import base from './playwright.config';

export default {
  ...base,
  testDir: 'benchmarks',
  testMatch: '**/*.bench.ts',
  timeout: 600000,
  use: {
    ...base.use,
    launchOptions: {
      ...base.use.launchOptions,
      args: [...base.use.launchOptions.args, '--js-flags=--expose-gc']
    }
  }
};
