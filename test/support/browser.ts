import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The system Chromium (Debian's `chromium` package); never a downloaded browser build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);
/** In CI (`CI` set, as .ci/run's caller does) the browser test must run: a missing Chromium fails it. */
export const browserRequired = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());
const INSTALL = 'apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH)';
export const SKIP_MESSAGE = `[dashboard e2e] SKIPPED: no Chromium at ${CHROMIUM_PATH}; enable with: ${INSTALL}`;
export const MISSING_IN_CI = `[dashboard e2e] CI is set but there is no Chromium at ${CHROMIUM_PATH}: .ci/run installs it; by hand: ${INSTALL}`;

/** Screenshots and other test output (gitignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/**
 * Records every WebSocket the page opens, so a test can cut the feed (`window.__sockets`).
 * Injected by the browser before any page script, outside the page's CSP.
 */
const SOCKET_SPY = `(() => {
  const Native = window.WebSocket;
  const sockets = [];
  Object.defineProperty(window, '__sockets', { value: sockets });
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); sockets.push(this); }
  };
})();`;

export interface Browser {
  context: BrowserContext;
  /** A new tab whose console errors, page errors and failed CSP checks are recorded. */
  page(): Promise<Page>;
  /**
   * Errors expected by the current test only (a 401 while the page asks for a key, network
   * errors while offline): allowed until the next takeErrors().
   */
  allow(pattern: RegExp): void;
  /** Console errors, page errors and CSP failures not allowed since the last call; clears them and the allowed patterns. */
  takeErrors(): string[];
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile in a temporary user-data dir. */
export async function launchBrowser(): Promise<Browser> {
  if (!hasChromium) throw new Error(MISSING_IN_CI);
  const userDataDir = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
    timeout: 30_000,
  });
  await context.addInitScript(SOCKET_SPY);
  let errors: string[] = [];
  let allowed: RegExp[] = [];
  const record = (text: string) => {
    if (!allowed.some((pattern) => pattern.test(text))) errors.push(text);
  };
  return {
    context,
    allow: (pattern) => void allowed.push(pattern),
    takeErrors() {
      const taken = errors;
      errors = [];
      allowed = [];
      return taken;
    },
    async page() {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') record(`console: ${message.text()} (${message.location().url})`);
      });
      page.on('pageerror', (error) => record(`page error: ${error.message}`));
      return page;
    },
    async screenshot(page, name) {
      const path = join(ARTIFACTS, name);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
