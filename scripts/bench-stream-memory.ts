/**
 * Memory of training on a large dataset, held in memory against streamed from IndexedDB:
 * `npx tsx scripts/bench-stream-memory.ts [rows] [budgetMiB]` (after `npx vite build`).
 * For each mode a fresh Chromium opens one demo hospital tab, imports a heart-risk CSV of `rows`
 * records (default 200,000), then has its worker run one training epoch (the loss check, which trains
 * an epoch on the chosen backend and one on the CPU) and evaluate version 0. The first mode keeps the
 * default budget (256 MiB: the dataset is held in memory); the second sets `?memoryBudgetMb=` (default
 * 4) so it streams. Reported: the worker's peak JS heap (over the DevTools protocol, sampled every
 * 20 ms), its heap after a GC, and the tab's renderer peak resident memory (VmHWM, reset
 * before the commit), from the commit of the import to the end of the evaluation.
 */
import fs from 'node:fs';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { recordsToCsv } from '../shared/data';
import { demoHospitals, generateHeartRecords } from '../shared/synthetic';
import { heartRisk } from '../shared/tasks';
import { startConsilium } from '../e2e/support/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config';

const rows = Number(process.argv[2] ?? 200_000);
const budgetMiB = Number(process.argv[3] ?? 4);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function makeCsv(n: number): Buffer {
  const parts: string[] = [];
  const slice = 20_000;
  for (let start = 0; start < n; start += slice) {
    const records = generateHeartRecords({ ...demoHospitals[(start / slice) % 3], size: Math.min(slice, n - start), seed: 1000 + start });
    parts.push(recordsToCsv(heartRisk, records, { header: start === 0 }));
  }
  return Buffer.from(parts.join(''));
}

/** Pids of the renderer processes below the browser whose user-data-dir is `dir`. */
function renderers(dir: string): number[] {
  const procs = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);
  const info = new Map<number, { ppid: number; cmd: string }>();
  for (const pid of procs) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      info.set(pid, { ppid, cmd: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // Gone meanwhile.
    }
  }
  const root = [...info].find(([, v]) => v.cmd.includes(`--user-data-dir=${dir}`) && !v.cmd.includes('--type='))?.[0];
  const below = (pid: number): boolean => {
    for (let p = info.get(pid)?.ppid; p; p = info.get(p)?.ppid) if (p === root) return true;
    return false;
  };
  return [...info].filter(([pid, v]) => v.cmd.includes('--type=renderer') && below(pid)).map(([pid]) => pid);
}

const status = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/**
 * The worker's used JS heap, read over the DevTools protocol: a dedicated worker has no
 * `performance.memory`, and the protocol's messages interrupt even a worker busy in a long loop.
 */
async function workerHeap(context: BrowserContext, page: Page): Promise<{ heap: () => Promise<number>; gc: () => Promise<void> }> {
  const cdp = await context.newCDPSession(page);
  let targetId: string | undefined;
  for (let i = 0; i < 100 && !targetId; i++) {
    const { targetInfos } = await cdp.send('Target.getTargets');
    targetId = targetInfos.find((t) => t.type === 'worker' && /worker/i.test(t.url))?.targetId;
    if (!targetId) await page.waitForTimeout(100);
  }
  if (!targetId) throw new Error('no training worker');
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
  let next = 0;
  const waiting = new Map<number, (result: Record<string, number>) => void>();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const msg = JSON.parse(e.message) as { id?: number; result?: Record<string, number> };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result ?? {});
  });
  const send = (method: string) =>
    new Promise<Record<string, number>>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
    });
  return { heap: async () => (await send('Runtime.getHeapUsage')).usedSize, gc: async () => void (await send('HeapProfiler.collectGarbage')) };
}

async function run(url: string, siteId: string, budget: number | null, csv: Buffer) {
  const dir = fs.mkdtempSync('/tmp/bench-stream-');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${url}?backend=cpu${budget ? `&memoryBudgetMb=${budget}` : ''}`);
    await page.getByTestId('records-count').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 60_000 });
    await page.getByTestId('csv-file-input').setInputFiles({ name: 'large.csv', mimeType: 'text/csv', buffer: csv });
    await page.getByTestId('import-commit').waitFor({ timeout: 120_000 });
    const { heap, gc } = await workerHeap(context, page);
    await gc();
    const before = await heap();
    const pids = renderers(dir);
    for (const pid of pids) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const rssBefore = Math.max(...pids.map((p) => status(p, 'VmRSS')));
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await heap().catch(() => 0));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const t0 = Date.now();
    await page.getByTestId('import-commit').click();
    await page.getByTestId('records-count').filter({ hasText: String(rows) }).waitFor({ timeout: 120_000 });
    const committed = Date.now();
    const streamed = await page.getByTestId('dataset-streaming').textContent({ timeout: 1000 }).catch(() => null);
    const token = new URL(url).pathname.split('/').at(-1)!;
    const loss = await page.evaluate((a) => window.__consilium!.worker.lossCheck(a), { templateId: heartRisk.id, siteId, seed: 1 });
    const trained = Date.now();
    const evaluation = await page.evaluate((a) => window.__consilium!.worker.evaluate(a), { token, studyId: 'heart-demo', version: 0, templateId: heartRisk.id, siteId });
    const evaluated = Date.now();
    sampling = false;
    await sampler;
    await gc();
    const after = await heap();
    const hwm = Math.max(...pids.map((p) => status(p, 'VmHWM')));
    return {
      mode: budget ? `streamed (budget ${budget} MiB)` : 'in memory (256 MiB budget)',
      streamed,
      workerHeapBefore: mib(before),
      workerHeapPeak: mib(peak),
      workerHeapAfterGc: mib(after),
      rendererRssBefore: mib(rssBefore),
      rendererPeakRss: mib(hwm),
      commitAndDescribeS: (committed - t0) / 1000,
      lossCheckTwoEpochsS: (trained - committed) / 1000,
      evaluateS: (evaluated - trained) / 1000,
      loss: loss.loss,
      validationAccuracy: evaluation.accuracy,
      validationSamples: evaluation.numSamples,
    };
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const server = await startConsilium({ env: { DEMO_ROUNDS: '1' } });
try {
  const csv = makeCsv(rows);
  console.log(`${rows} records, CSV ${mib(csv.length)}, encoded ${mib(rows * 4 * (22 + 1))}`);
  const [a, b] = server.hospitals;
  console.log(JSON.stringify(await run(a.url, a.siteId, null, csv), null, 1));
  console.log(JSON.stringify(await run(b.url, b.siteId, budgetMiB, csv), null, 1));
} finally {
  await server.stop();
}
