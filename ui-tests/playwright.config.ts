/**
 * Galata in Debian's Chromium: never a Playwright browser download.
 */
import baseConfig from '@jupyterlab/galata/lib/playwright-config';

export default {
  ...baseConfig,
  reporter: [['list']],
  workers: 1,
  retries: 0,
  timeout: 120000,
  expect: { timeout: 30000 },
  use: {
    ...baseConfig.use,
    baseURL: 'http://127.0.0.1:8899',
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: '../.venv/bin/jupyter lab --config jupyter_server_test_config.py',
    url: 'http://127.0.0.1:8899/lab',
    timeout: 120000,
    reuseExistingServer: false
  }
};
