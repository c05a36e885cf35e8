import { after } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, as every browser test here runs it: headless, as root, with the background
 * services off (this machine refuses outside connections, and Chromium would retry them).
 */
export const chromiumLaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

/**
 * One Chromium for the test file that calls this at its top level, started at once (so it boots
 * while the first test sets up) and closed after the file's last test. A failed launch is
 * reported by the tests that await it, not as an unhandled rejection.
 */
export function launchSharedChromium(): Promise<Browser> {
  const browserReady = chromium.launch(chromiumLaunchOptions);
  browserReady.catch(() => {});
  after(async () => {
    await browserReady.then((browser) => browser.close(), () => {});
  });
  return browserReady;
}
