import { afterAll, beforeAll } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { Env } from './app-processes';
import { launchBrowser } from './chromium';
import { startFileServer, type FileServer } from './file-server';
import { startTestApp, type TestApp } from './test-app';

export interface BrowsingApp {
  readonly files: FileServer;
  /** Mutable: a test may replace its server (a restart). */
  readonly app: TestApp;
  /** A new tab on `path` of the app's server, in a browser profile of its own. */
  openTab(path: string): Promise<Page>;
  /** A browser profile whose tabs share their storage, like the tabs of one person's browser. */
  openProfile(): Promise<{ openTab(path: string): Promise<Page> }>;
}

/** A fixture file server, the app and Chromium, for one browser test file; registers the hooks. */
export function useBrowsingApp(options: { env?: Env } = {}): BrowsingApp {
  let files: FileServer | undefined;
  let app: TestApp | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    files = await startFileServer();
    app = await startTestApp(options);
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await files?.close();
  }, 30_000);

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('started in beforeAll');
    return value;
  };
  return {
    get files() {
      return started(files);
    },
    get app() {
      return started(app);
    },
    async openTab(path) {
      const page = await started(browser).newPage();
      await page.goto(`${started(app).server.url}${path}`);
      return page;
    },
    async openProfile() {
      const profile = await started(browser).newContext();
      return {
        async openTab(path) {
          const page = await profile.newPage();
          await page.goto(`${started(app).server.url}${path}`);
          return page;
        },
      };
    },
  };
}
