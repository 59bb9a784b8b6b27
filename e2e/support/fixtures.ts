import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { startConsilium, type ConsiliumServer, type StartOptions } from './server';

export interface TrafficLog {
  /** Bodies of every request the page and its workers sent (binary included). */
  requestBodies: { url: string; method: string; body: Buffer }[];
  /** Every WebSocket frame the page sent. */
  wsFramesSent: string[];
}

export interface HospitalTab {
  name: string;
  siteId: string;
  context: BrowserContext;
  page: Page;
  traffic: TrafficLog;
}

export interface OpenHospitalsOptions {
  /** `?backend=` for the training worker; e2e trains on the CPU backend unless a test is about backends. */
  backend?: 'cpu' | 'webgpu' | 'webgl' | 'wasm';
  /** Press Join once the dataset is ready. */
  join?: boolean;
  /** `?memoryBudgetMb=` for the training worker: a dataset larger than this streams from IndexedDB. */
  memoryBudgetMb?: number;
}

type Fixtures = {
  /** The spec file's own server and database. */
  consilium: ConsiliumServer;
  /** N demo hospitals, each in its own browser context (its own IndexedDB), in one call. */
  openHospitals: (n: number, options?: OpenHospitalsOptions) => Promise<HospitalTab[]>;
  /** An admin signed in to the console. */
  openAdmin: () => Promise<Page>;
};

type WorkerFixtures = {
  serverOptions: StartOptions;
  serverRegistry: { file: string | null; server: ConsiliumServer | null };
};

export function recordTraffic(context: BrowserContext, page: Page): TrafficLog {
  const log: TrafficLog = { requestBodies: [], wsFramesSent: [] };
  // Context-level events include requests made by the pages' dedicated workers.
  context.on('request', (req) => {
    const body = req.postDataBuffer();
    if (body) log.requestBodies.push({ url: req.url(), method: req.method(), body });
  });
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => log.wsFramesSent.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1')));
  });
  return log;
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  serverOptions: [{}, { scope: 'worker', option: true }],
  serverRegistry: [
    async ({}, use) => {
      const registry = { file: null as string | null, server: null as ConsiliumServer | null };
      await use(registry);
      await registry.server?.stop();
    },
    { scope: 'worker' },
  ],

  // One server per spec file: started by the file's first test, stopped when the next file begins.
  consilium: async ({ serverRegistry, serverOptions }, use, testInfo) => {
    if (serverRegistry.file !== testInfo.file) {
      await serverRegistry.server?.stop();
      serverRegistry.server = null;
      serverRegistry.file = testInfo.file;
      serverRegistry.server = await startConsilium(serverOptions);
    }
    await use(serverRegistry.server!);
  },

  openHospitals: async ({ browser, consilium }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (n, options = {}) => {
      if (n > consilium.hospitals.length)
        throw new Error(`asked for ${n} hospitals, the demo has ${consilium.hospitals.length}`);
      const tabs: HospitalTab[] = [];
      for (const h of consilium.hospitals.slice(0, n)) {
        const context = await browser.newContext();
        contexts.push(context);
        const page = await context.newPage();
        const traffic = recordTraffic(context, page);
        page.on('pageerror', (err) => console.error(`[${h.name}] page error:`, err.message));
        const budget = options.memoryBudgetMb === undefined ? '' : `&memoryBudgetMb=${options.memoryBudgetMb}`;
        await page.goto(`${h.url}?backend=${options.backend ?? 'cpu'}${budget}`);
        await expect(page.getByTestId('site-name')).toHaveText(h.name);
        await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
        tabs.push({ name: h.name, siteId: h.siteId, context, page, traffic });
      }
      if (options.join !== false) {
        for (const t of tabs) await t.page.getByTestId('join-button').click();
      }
      return tabs;
    });
    for (const c of contexts) await c.close();
  },

  openAdmin: async ({ browser, consilium }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${consilium.url}/admin`);
      await page.getByLabel('Email').fill(consilium.admin.email);
      await page.getByLabel('Password').fill(consilium.admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByTestId('convergence-chart')).toBeVisible();
      return page;
    });
    for (const c of contexts) await c.close();
  },
});

export { expect };
