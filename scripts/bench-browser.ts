/**
 * Training throughput in headless Chromium: `npm run bench:browser [-- --write]`.
 * Builds the web app into a temporary folder (or serves `STATIC_DIR` when set), starts the server as
 * e2e does, and for each template (heart-risk, hcv-stage, lesion-images) and each backend forced with
 * `?backend=` (cpu, wasm where the model allows, webgl, webgpu) has a demo hospital tab's worker train
 * one local round on its own demo data: the template's epochs, batch size and optimiser, from its
 * initial weights, after a few warm-up steps. Reported: samples per second, the round's time, and the
 * page's longest task while the worker trained (PerformanceObserver 'longtask'; target under 100 ms).
 * Then, per template, what the automatic choice measured and picked in a fresh browser profile.
 *
 * WebGL and WebGPU run on SwiftShader here (no GPU): their figures are software rendering on the
 * CPU, never GPU figures. `--write` replaces the "## Browser training" section of docs/benchmarks.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import type { BackendName } from '../shared/protocol';
import { lesionHospitals } from '../shared/synthetic/lesions';
import { getTemplate } from '../shared/tasks';
import { startConsilium, type ConsiliumServer, type DemoHospitalLink } from '../e2e/support/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config';
import type { BackendFigure } from '../web/training/backendChoice';
import type { BenchmarkResult } from '../web/training/protocol';

const TEMPLATES = ['heart-risk', 'hcv-stage', 'lesion-images'] as const;
const BACKENDS: BackendName[] = ['cpu', 'wasm', 'webgl', 'webgpu'];
const SOFTWARE = new Set<BackendName>(['webgl', 'webgpu']);
const write = process.argv.includes('--write');

interface Row {
  template: string;
  backend: BackendName;
  result?: BenchmarkResult;
  longestTaskMs?: number;
  skipped?: string;
}

async function buildWeb(): Promise<string> {
  if (process.env.STATIC_DIR) return process.env.STATIC_DIR;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-bench-web-'));
  const { build } = await import('vite');
  await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

declare global {
  interface Window {
    __longTasks?: { start: number; duration: number }[];
  }
}

/** A tab of `hospital`, its long tasks recorded from the start. */
async function openTab(browser: Browser, hospital: DemoHospitalLink, query: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks!.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${hospital.url}${query}`);
  await page.getByTestId('records-count').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 120_000 });
  return { page, close: () => context.close() };
}

/** One local round on the tab's worker, and the page's longest task meanwhile. */
async function benchRound(page: Page, siteId: string, templateId: string, epochs?: number): Promise<{ result: BenchmarkResult; longestTaskMs: number }> {
  return page.evaluate(
    async ({ siteId, templateId, epochs }) => {
      const { worker, session } = window.__consilium!;
      // The profile is the site's id for demo sites; heart sites generate the HCV markers too.
      await worker.ensureDemoDataset(siteId, siteId, templateId);
      const start = performance.now();
      const result = await session.benchmarkRound({ siteId, templateId, ...(epochs ? { epochs } : {}) });
      const end = performance.now();
      const during = window.__longTasks!.filter((t) => t.start + t.duration > start && t.start < end);
      return { result, longestTaskMs: Math.max(0, ...during.map((t) => t.duration)) };
    },
    { siteId, templateId, epochs },
  );
}

/**
 * The CNN on software-rendered backends takes a minute a round on SwiftShader's WebGPU: one epoch is
 * timed and the round's time scaled to the template's epochs, said so in the table.
 */
const timedEpochs = (templateId: string, backend: BackendName) => (SOFTWARE.has(backend) && getTemplate(templateId)!.image ? 1 : undefined);

async function forcedRows(browser: Browser, server: ConsiliumServer): Promise<Row[]> {
  const lesionIds = new Set(lesionHospitals.map((h) => h.id));
  const heart = server.hospitals.find((h) => !lesionIds.has(h.siteId))!;
  const lesion = server.hospitals.find((h) => h.siteId === lesionHospitals[0].id)!;
  const rows: Row[] = [];
  for (const backend of BACKENDS) {
    for (const hospital of [heart, lesion]) {
      const templates = TEMPLATES.filter((t) => Boolean(getTemplate(t)!.image) === lesionIds.has(hospital.siteId));
      const tab = await openTab(browser, hospital, `?backend=${backend}`);
      try {
        for (const templateId of templates) {
          const t0 = Date.now();
          try {
            const r = await benchRound(tab.page, hospital.siteId, templateId, timedEpochs(templateId, backend));
            if (r.result.backend !== backend) throw new Error(`forced ${backend}, trained on ${r.result.backend}`);
            rows.push({ template: templateId, backend, ...r });
            console.log(`${templateId} on ${backend}: ${r.result.samplesPerSecond.toFixed(0)} samples/s, round ${(r.result.roundMs / 1000).toFixed(2)} s, longest task ${r.longestTaskMs.toFixed(0)} ms (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
          } catch (e) {
            const reason = (e as Error).message.split('\n')[0].replace(/^.*?Error: /, '');
            rows.push({ template: templateId, backend, skipped: reason });
            console.log(`${templateId} on ${backend}: not run (${reason})`);
          }
        }
      } finally {
        await tab.close();
      }
    }
  }
  return rows;
}

/** What the automatic choice measures for each template's model in a fresh profile (no cached choice). */
async function automaticChoice(browser: Browser, server: ConsiliumServer): Promise<Record<string, BackendFigure[]>> {
  const tab = await openTab(browser, server.hospitals[0], '');
  try {
    const out: Record<string, BackendFigure[]> = {};
    for (const templateId of TEMPLATES) {
      const probe = await tab.page.evaluate(async (templateId) => (await window.__consilium!.worker.init({ templateId })).probe, templateId);
      out[templateId] = probe?.figures ?? [];
      console.log(`automatic choice for ${templateId}: ${out[templateId].find((f) => f.verdict === 'chosen')?.backend ?? 'none'}`);
    }
    return out;
  } finally {
    await tab.close();
  }
}

/** A GPU backend's row says what rendered it: SwiftShader is software rendering on the CPU, never a GPU figure. */
const label = (b: BackendName, device?: string) => {
  if (!SOFTWARE.has(b)) return b;
  if (!device || /swiftshader|software|llvmpipe/i.test(device)) return `${b} (software rendering, SwiftShader)`;
  return `${b} (GPU: ${device})`;
};
const fmt = (x: number, digits = 0) => x.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(rows: Row[], auto: Record<string, BackendFigure[]>, meta: { seconds: number; chromium: string; load: number }): string {
  const lines = [
    '## Browser training',
    '',
    '```',
    'npm run bench:browser -- --write',
    '```',
    '',
    `Headless Chromium (${meta.chromium}) on the development machine above (2 shared cores, load average ${meta.load.toFixed(1)} at the start), one`,
    'tab at a time, its dedicated worker training one local round of a demo site on its own data: the',
    "template's local epochs, batch size and optimiser, from the template's initial weights, after a few",
    'warm-up steps (shader compilation excluded). heart-risk and hcv-stage train on the first heart demo',
    'site, lesion-images on the first imaging demo site (32×32 scans). Backends are forced with',
    '`?backend=`. **There is no GPU here: WebGL and WebGPU run on SwiftShader, software rendering on the',
    'CPU; those rows are not GPU figures.** The tab shows the round\'s progress as it does in a study;',
    '"longest task" is its longest main-thread task while the worker trained (PerformanceObserver',
    `\`longtask\`, which reports tasks over 50 ms; target under 100 ms). Whole run: ${fmt(meta.seconds)} s.`,
    '',
    '| template | backend | samples / s | one local round | epochs × samples | longest task |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    if (!r.result) {
      lines.push(`| ${r.template} | ${label(r.backend)} | – | – | – | not run: ${/convolution gradient/.test(r.skipped ?? '') ? 'WASM lacks the convolution gradient kernels' : r.skipped} |`);
      continue;
    }
    const x = r.result;
    const task = r.longestTaskMs! > 0 ? `${fmt(r.longestTaskMs!)} ms` : 'none over 50 ms';
    const epochs = getTemplate(r.template)!.defaults.localEpochs;
    const round = x.epochs === epochs ? `${fmt(x.roundMs / 1000, 2)} s` : `≈ ${fmt((x.roundMs * epochs) / x.epochs / 1000, 1)} s (${x.epochs} of ${epochs} epochs timed)`;
    lines.push(`| ${r.template} | ${label(r.backend, x.adapter)} | ${fmt(x.samplesPerSecond)} | ${round} | ${epochs} × ${x.numSamples} | ${task} |`);
  }
  const longest = Math.max(...rows.map((r) => r.longestTaskMs ?? 0));
  lines.push('', `Longest page task during any training above: ${longest > 0 ? `${fmt(longest)} ms` : 'none over 50 ms'}.`, '');
  lines.push(
    'The automatic choice in a fresh browser profile (no `?backend=`): a warm-up and a few timed training steps',
    "of the template's model on every usable backend, gradients on a fixed seeded batch checked against the",
    "CPU backend's (refused at a relative error of 1e-2 or more), the fastest correct one chosen:",
    '',
    '| template | backend | ms / step | samples / s | gradient error | verdict |',
    '| --- | --- | ---: | ---: | ---: | --- |',
  );
  for (const [template, figures] of Object.entries(auto)) {
    for (const f of figures) {
      const cells = f.available
        ? [fmt(f.msPerStep, 1), fmt(f.samplesPerSecond), f.gradientError === null ? '–' : f.gradientError.toExponential(1)]
        : ['–', '–', '–'];
      const why = f.available ? (f.note ? `${f.verdict}: ${f.note}` : f.verdict) : `${f.verdict}: ${f.reason}`;
      lines.push(`| ${template} | ${label(f.backend, f.adapter ?? (f.available ? undefined : f.reason))} | ${cells.join(' | ')} | ${why} |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** Replaces (or appends) this section only: the rest of the file belongs to other benchmarks. */
function writeSection(section: string): void {
  const file = 'docs/benchmarks.md';
  const text = fs.readFileSync(file, 'utf8');
  const start = text.indexOf('\n## Browser training');
  if (start < 0) {
    fs.writeFileSync(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf('\n## ', start + 1);
  fs.writeFileSync(file, `${text.slice(0, start + 1)}${section}${next < 0 ? '' : `\n${text.slice(next + 1)}`}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const startLoad = os.loadavg()[0];
  process.env.STATIC_DIR = await buildWeb();
  const server = await startConsilium({ env: { DEMO_ROUNDS: '1' } });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    const rows = await forcedRows(browser, server);
    const auto = await automaticChoice(browser, server);
    const section = report(rows, auto, { seconds: (Date.now() - started) / 1000, chromium: `Chromium ${browser.version()}`, load: startLoad });
    console.log(`\n${section}`);
    if (write) writeSection(section);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
