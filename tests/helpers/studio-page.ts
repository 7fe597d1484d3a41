// The e2e tests' common setup: the studio in browser mode and one Chromium page on it, with its errors watched.
// Set STUDIO_HOME (and write whatever the studio should find there) before openStudio: startBrowserMode reads
// the data folder when it starts.
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { startBrowserMode, type BrowserMode } from '../../src/main/server';
import { launchChromium, SCREENSHOTS, watchErrors } from './browser';

export interface StudioPage {
  mode: BrowserMode;
  browser: Browser;
  page: Page;
  /** Console errors and page errors, collected as they come (see watchErrors). */
  errors: string[];
  /** Closes Chromium, then stops the studio. */
  close(): Promise<void>;
}

export interface StudioPageOptions {
  viewport: { width: number; height: number };
  /** The route to open, after the '#' (e.g. '/compare?before=…'); without it the studio's start page. */
  hash?: string;
  /** false: leave the page blank, for a test that navigates itself. */
  navigate?: boolean;
  /** A data-testid to wait for once the page is open. */
  waitFor?: string;
  /** Runs once the studio is up, before Chromium starts (e.g. to open a folder through the RPC client). */
  prepare?: (mode: BrowserMode) => Promise<void>;
}

export async function openStudio(options: StudioPageOptions): Promise<StudioPage> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const mode = await startBrowserMode();
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await mode.stop();
  };
  try {
    await options.prepare?.(mode);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: options.viewport });
    const errors = watchErrors(page);
    if (options.navigate !== false) {
      await page.goto(mode.server.url + (options.hash === undefined ? '' : `#${options.hash}`));
      if (options.waitFor) await page.getByTestId(options.waitFor).waitFor();
    }
    return { mode, browser, page, errors, close };
  } catch (error) {
    // The caller gets no handle to close, so nothing may be left running.
    await close();
    throw error;
  }
}

/** In the open folder browser, goes to `dir` by typing it, and waits until its listing is on screen. */
export async function browseTo(page: Page, dir: string): Promise<void> {
  await page.getByTestId('folder-browser').waitFor();
  await page.getByTestId('folder-path').fill(dir);
  await page.getByTestId('folder-path').press('Enter');
  await page.waitForFunction((d) => document.querySelector('[data-testid=folder-browser]')?.getAttribute('data-listed') === d, dir);
}

/** The text of the element with this test id ('' when it has none). */
export async function textOf(page: Page, testid: string): Promise<string> {
  return (await page.getByTestId(testid).textContent()) ?? '';
}
