import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/* Headless Debian Chromium driven by playwright-core, emulating a phone: the pages under test are H5. */

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Git-ignored; CI keeps it as the test artefact. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/e2e/', import.meta.url));

// Nothing in the tests needs the network beyond loopback, so Chromium is told not to reach out on its own.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails (never skips) when Chromium is missing: a browser test that silently does not run proves nothing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}; the browser end-to-end tests need it. Install it with ` +
        '`apt-get update && apt-get install -y chromium fonts-wqy-microhei` (.ci/run does this), ' +
        'or set CHROMIUM_PATH to another Chromium binary',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface Phone {
  page: Page;
  /**
   * Uncaught page errors, console errors (CSP violations land here) and failed subresources, for "the page
   * ran cleanly". A navigation's own status is for the test to assert.
   */
  problems: string[];
  /**
   * Full-page PNG in test-artifacts/e2e/; returns its path. Fails first when the page is wider than the
   * phone: sideways scrolling is the layout bug a desktop-sized check never sees.
   */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Runs in the page (a string, since this project's TypeScript has no DOM types): how far the page is wider
 * than the viewport, and the innermost elements whose content spills out of their own box.
 */
const OVERFLOW_SCRIPT = `(() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const spilling = [...document.body.querySelectorAll('*')].filter((e) => e.scrollWidth > e.clientWidth);
  const culprits = spilling
    .filter((e) => !spilling.some((other) => other !== e && e.contains(other)))
    .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
  return { width: root.clientWidth, scrollWidth: root.scrollWidth, culprits };
})()`;

async function assertFitsWidth(page: Page): Promise<void> {
  const overflow = await page.evaluate<{ width: number; scrollWidth: number; culprits: string[] } | null>(
    OVERFLOW_SCRIPT,
  );
  if (overflow) {
    throw new Error(
      `${page.url()} is ${overflow.scrollWidth} px wide on a ${overflow.width} px phone; ` +
        `spilling: ${overflow.culprits.join(' ')}`,
    );
  }
}

/** A fresh context (no cookies, no cache) the size of a common phone: 390x844 CSS pixels. */
export async function openPhone(browser: Browser): Promise<Phone> {
  const context: BrowserContext = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  // Far below the test runner's limit, so a missing element fails with Playwright's message, not a timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Chromium's own "Failed to load resource" line does not say which resource; this does.
  page.on('response', (response) => {
    if (response.status() < 400 || response.request().isNavigationRequest()) return;
    problems.push(`HTTP ${response.status()} for ${response.request().method()} ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() !== 'error' || message.text().startsWith('Failed to load resource')) return;
    problems.push(`console error at ${page.url()}: ${message.text()}`);
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    page,
    problems,
    async screenshot(name) {
      await assertFitsWidth(page);
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => context.close(),
  };
}
