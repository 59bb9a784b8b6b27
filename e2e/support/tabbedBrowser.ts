import { chromium, type Browser, type BrowserContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright.config';

export interface TabbedBrowser {
  browser: Browser;
  /** The browser's own profile: its tabs share one window, so the tab in front hides the others. */
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A headless Chromium whose tabs can really be hidden and frozen. Pages that Playwright opens itself
 * never are: it emulates focus on each of them, which keeps them visible whatever tab is in front.
 * This one is started apart and attached over CDP with `noDefaults` (no focus emulation), so a tab
 * brought to the front hides the others (`document.visibilityState === 'hidden'`), and
 * `Page.setWebLifecycleState` fires `freeze` and `resume` on a hidden one, as Chrome does when it
 * freezes a background tab. Nor is it launched with Playwright's switches that keep background tabs'
 * timers unthrottled: a hidden tab here is throttled as in a user's browser.
 */
export async function launchTabbedBrowser(): Promise<TabbedBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-tabbed-'));
  const child: ChildProcess = spawn(
    CHROMIUM_PATH,
    ['--headless', '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--no-default-browser-check', ...CHROMIUM_ARGS, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (!gone()) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (!gone()) child.kill('SIGKILL');
    }
    // Its helper processes may still be writing the profile for a moment after the browser exits.
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (e) {
      console.warn(`could not remove ${profile}: ${(e as Error).message}`);
    }
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`Chromium printed no DevTools endpoint within 30 s:\n${err}`)), 30_000);
      child.stderr!.on('data', (d: Buffer) => {
        err += d;
        const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited with ${code}:\n${err}`));
      });
    });
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
    return {
      browser,
      context: browser.contexts()[0],
      async close() {
        await browser.close().catch(() => undefined);
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
