import { after, type TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

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

/**
 * A browser profile of its own (cookies, storage) for one test, closed after it, that may reach
 * 127.0.0.1 only: anything else is recorded in `foreign` and refused, so a page that loads
 * something from elsewhere fails its test.
 */
export async function localOnlyPage(
  t: TestContext,
  browserReady: Promise<Browser>,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page; foreign: string[] }> {
  const context = await (await browserReady).newContext(options);
  t.after(() => context.close());
  const foreign: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'http:' && url.hostname === '127.0.0.1') return route.continue();
    foreign.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { context, page: await context.newPage(), foreign };
}

/**
 * How far the page scrolls sideways at its current viewport, in CSS pixels, measured once its
 * fonts have loaded and a frame has been laid out: a Korean page measured while the CJK font is
 * still loading (slow on a busy machine) is laid out in fallback metrics.
 */
export async function horizontalOverflow(page: Page): Promise<number> {
  await page.evaluate('document.fonts.ready.then(() => new Promise((resolve) => requestAnimationFrame(resolve)))');
  return (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
}
