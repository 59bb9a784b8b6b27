import { request, type Page } from '@playwright/test';
import { io, type Socket } from 'socket.io-client';
import { binaryClinicalMetrics } from '../shared/metrics/clinical';
import { maxValidationRecords } from '../shared/metrics/plausibility';
import type { Ack } from '../shared/protocol/events';
import type { MetricSeries } from '../shared/protocol/metricSeries';
import type { JoinResult, RoundClosed, RoundOpen, StudySummary } from '../shared/protocol/schemas';
import { lesionImages, weightShapes } from '../shared/tasks';
import { encodeWeights } from '../shared/weights/codec';
import { expect, test } from './support/fixtures';

/*
 * The lesion demo's failure, reproduced without training: three imaging sites whose model calls every
 * scan "no lesion" (tp = fp = 0) at every version while its scores rank the scans better each round
 * (AUROC from about 0.48 to 0.99), ever surer of it from version 2 on, so the validation loss rises
 * three versions in a row. Accuracy sits flat on the majority class. The console must say both on
 * its first screen, and the chart must show AUROC on a labelled axis when asked.
 */

const STUDY = 'lesion-one-class';
const ROUNDS = 4;
/** AUROC the sites' scores give, by version (version 0 is the initial model). */
const AUROC_BY_VERSION = [0.48, 0.7, 0.85, 0.95, 0.99];
/** Scores shrink towards 0 from version 2 on (ever surer that no scan shows a lesion): the loss rises three versions in a row. */
const SCALE_BY_VERSION = [1, 1, 0.3, 0.15, 0.08];
const TRAINING_RECORDS = 480;
const VIEWPORT = { width: 1440, height: 900 };

/** Scores all below 0.5 (every scan called negative) whose ranking gives about `target` AUROC, scaled by `scale`. */
function scores(negatives: number, positives: number, target: number, scale: number): { probs: number[]; labels: number[] } {
  const probs: number[] = [];
  const labels: number[] = [];
  const at = (quantile: number) => scale * (0.05 + 0.4 * Math.min(1, Math.max(0, quantile)));
  for (let i = 0; i < negatives; i++) {
    probs.push(at((i + 0.5) / negatives));
    labels.push(0);
  }
  // A positive at quantile t of the negatives' scores outranks a share t of them: the mean of t is the AUROC.
  for (let j = 0; j < positives; j++) {
    const spread = Math.min(target, 1 - target) * 2 * 0.9;
    probs.push(at(target + spread * ((j + 0.5) / positives - 0.5)) + 1e-4);
    labels.push(1);
  }
  return { probs, labels };
}

interface Hospital {
  siteId: string;
  socket: Socket;
  evaluated: Set<number>;
}

function emitAck<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return (socket.timeout(15_000).emitWithAck(event, payload) as Promise<Ack<T>>).then((ack) => {
    if (!ack.ok) throw new Error(`${event}: ${ack.error.code} ${ack.error.message}`);
    return ack.data;
  });
}

async function signInAdmin(page: Page, url: string, admin: { email: string; password: string }) {
  await page.goto(`${url}/admin`);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('convergence-chart')).toBeVisible();
}

test('a model that calls every scan negative is named on the console’s first screen; the chart shows its AUROC', async ({ browser, consilium }, testInfo) => {
  // The study, made as an admin makes one: three of the lesion demo's imaging sites.
  const api = await request.newContext({ baseURL: consilium.url });
  expect((await api.post('/api/auth/login', { data: consilium.admin })).ok()).toBe(true);
  const csrf = (await api.storageState()).cookies.find((c) => c.name === 'consilium_csrf')?.value ?? '';
  const lesionSites = consilium.hospitals.filter((h) => h.siteId.startsWith('lesion-')).slice(0, 3);
  expect(lesionSites).toHaveLength(3);
  const created = await api.post('/api/studies', {
    headers: { 'X-CSRF-Token': csrf },
    data: {
      id: STUDY,
      name: 'Lesions, one class',
      templateId: lesionImages.id,
      config: { rounds: ROUNDS, minParticipants: 3, roundDeadlineMs: 120_000 },
      siteIds: lesionSites.map((h) => h.siteId),
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const study = (await created.json()) as StudySummary;

  // Each site: its validation split (a quarter positive, sizes differing by site) and its scores by version.
  const validation = [
    { negatives: 76, positives: 24 },
    { negatives: 60, positives: 20 },
    { negatives: 90, positives: 30 },
  ];
  expect(validation.every((v) => v.negatives + v.positives <= maxValidationRecords(TRAINING_RECORDS, study.config.validationFraction, 2))).toBe(true);
  const shapes = weightShapes(lesionImages.model);
  const failures: unknown[] = [];

  const evaluate = async (h: Hospital, k: number, version: number) => {
    if (h.evaluated.has(version)) return;
    h.evaluated.add(version);
    const { probs, labels } = scores(validation[k].negatives, validation[k].positives, AUROC_BY_VERSION[version] - 0.01 * k, SCALE_BY_VERSION[version]);
    const m = binaryClinicalMetrics(probs, labels);
    expect(m.confusion).toMatchObject({ tp: 0, fp: 0 });
    await emitAck(h.socket, 'hospital:evaluation', { studyId: STUDY, version, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend: 'cpu', clinical: m });
  };
  const upload = async (h: Hospital, open: RoundOpen) => {
    // A small update: the weights barely move (the scores above are what the sites report).
    const tensors = shapes.map((s) => ({ shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(1e-4) }));
    const body = encodeWeights({ kind: 'update', meta: { studyId: STUDY, round: open.round, baseVersion: open.baseVersion, numSamples: TRAINING_RECORDS, backend: 'cpu' }, tensors });
    const res = await fetch(`${consilium.url}/api/studies/${STUDY}/rounds/${open.round}/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${consilium.hospitals.find((x) => x.siteId === h.siteId)!.token}`, 'content-type': 'application/octet-stream', 'idempotency-key': `${h.siteId}-r${open.round}` },
      body,
    });
    if (res.status !== 200) throw new Error(`${h.siteId} round ${open.round}: HTTP ${res.status} ${await res.text()}`);
  };

  const hospitals: Hospital[] = [];
  for (const [k, site] of lesionSites.entries()) {
    const socket = io(consilium.url, { transports: ['websocket'], auth: { token: site.token }, reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const h: Hospital = { siteId: site.siteId, socket, evaluated: new Set() };
    hospitals.push(h);
    const guard = (job: () => Promise<void>) => void job().catch((err) => failures.push(err));
    socket.on('round:open', (open: RoundOpen) =>
      guard(async () => {
        if (open.studyId !== STUDY) return;
        // The initial model is evaluated before it is trained on: round 0.
        await evaluate(h, k, open.baseVersion);
        await upload(h, open);
      }),
    );
    socket.on('round:closed', (closed: RoundClosed) => guard(async () => (closed.studyId === STUDY && closed.version !== null ? evaluate(h, k, closed.version) : undefined)));
    const joined = await emitAck<JoinResult>(socket, 'hospital:join', { studyId: STUDY, numSamples: TRAINING_RECORDS, backend: 'cpu' });
    if (joined.statisticsNeeded) await emitAck(socket, 'hospital:statistics', { studyId: STUDY, statistics: { rows: TRAINING_RECORDS, numeric: {}, categorical: {} } });
  }

  // Every version, the initial one included, evaluated by every site.
  await expect
    .poll(
      async () => {
        expect(failures).toEqual([]);
        const series = (await (await api.get(`/api/studies/${STUDY}/metrics`)).json()) as MetricSeries;
        return series.versions.map((v) => `${v.version}:${v.reports}`).join(' ');
      },
      { timeout: 120_000, intervals: [500] },
    )
    .toBe(Array.from({ length: ROUNDS + 1 }, (_, v) => `${v}:3`).join(' '));
  const series = (await (await api.get(`/api/studies/${STUDY}/metrics`)).json()) as MetricSeries;
  const pooled = series.versions.at(-1)!.clinical!;
  expect(pooled).toMatchObject({ kind: 'binary', sensitivity: 0, confusion: { tp: 0, fp: 0, tn: 226, fn: 74 } });
  for (const h of hospitals) h.socket.disconnect();

  // The console's first screen, on a 1,440 × 900 display.
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await signInAdmin(page, consilium.url, consilium.admin);
  await page.goto(`${consilium.url}/admin?study=${STUDY}`);
  await expect(page.getByTestId('study-name')).toHaveText('Lesions, one class');

  const warning = page.getByTestId('model-warning');
  await expect(warning).toBeVisible();
  await expect(warning).toHaveAttribute('role', 'alert');
  await expect(warning.getByTestId('one-class-warning')).toContainText(`Model v${ROUNDS} calls every case “no lesion”, as every version since v0 has.`);
  await expect(warning).toContainText('Sensitivity is 0%: it finds no “lesion” in 300 pooled validation records.');
  await expect(warning.getByTestId('rising-loss-warning')).toContainText('Validation loss has risen 3 rounds in a row');
  await expect(warning.getByTestId('rising-loss-warning')).toContainText('The lowest was v1');
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  const box = (await warning.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(VIEWPORT.width);
  expect(box.y + box.height).toBeLessThanOrEqual(VIEWPORT.height);

  // The header names the version its accuracy is of, and the best one.
  await expect(page.getByTestId('latest-accuracy')).toContainText(`latest v${ROUNDS} 75.3%`);

  // Accuracy first: flat, on the majority-class line, on an axis scaled to the data.
  const chart = page.getByTestId('convergence-chart');
  await expect(chart).toHaveAttribute('data-points', String(ROUNDS));
  await expect(chart).toHaveAttribute('data-metric', 'accuracy');
  await expect(chart.locator('.y-axis-label')).toHaveText('Accuracy (%)');
  await expect(chart.locator('.recharts-label', { hasText: 'Majority class (always “no lesion”): 75.3%' })).toBeVisible();
  await expect(chart.locator('.recharts-label', { hasText: 'Round (0 = initial model)' })).toBeVisible();
  // The pooled curve and one per site.
  await expect(chart.locator('.recharts-legend-item')).toHaveCount(1 + series.sites.length);
  await expect(chart.locator('.recharts-legend-item', { hasText: 'Pooled (all sites)' })).toBeVisible();
  for (const s of series.sites) await expect(chart.locator('.recharts-legend-item', { hasText: s.siteName })).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: testInfo.outputPath('first-screen-accuracy.png') });

  // AUROC: climbing, best version marked, chance drawn, on its own labelled axis.
  await page.getByRole('radio', { name: 'AUROC' }).check();
  await expect(chart).toHaveAttribute('data-metric', 'auroc');
  await expect(chart.locator('.y-axis-label')).toHaveText('AUROC');
  await expect(chart.locator('.recharts-label', { hasText: 'Chance: 0.500' })).toBeVisible();
  await expect(chart.locator('.recharts-label', { hasText: `Best v${ROUNDS}` })).toBeVisible();
  await expect(page.getByTestId('convergence-best')).toContainText(`Best AUROC: v${ROUNDS} (round ${ROUNDS})`);
  // The axis is scaled to the curves (AUROC 0.47 to 0.99, chance 0.5), not to 0-1.
  const [low, high] = (await chart.getAttribute('data-domain'))!.split(' ').map(Number);
  expect(low).toBeGreaterThan(0.2);
  expect(low).toBeLessThanOrEqual(0.46);
  expect(high).toBe(1);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: testInfo.outputPath('first-screen-auroc.png') });
  await chart.screenshot({ path: testInfo.outputPath('chart-auroc.png') });

  // The loss: rising since v1, the no-skill forecast drawn, v1 marked best.
  await page.getByRole('radio', { name: 'Validation loss' }).check();
  await expect(chart.locator('.y-axis-label')).toHaveText('Validation loss (nats)');
  await expect(chart.locator('.recharts-label', { hasText: 'Best v1' })).toBeVisible();
  await expect(chart.locator('.recharts-label', { hasText: 'Class frequencies (no skill)' })).toBeVisible();
  await page.mouse.move(0, 0);
  await chart.screenshot({ path: testInfo.outputPath('chart-loss.png') });

  await page.getByRole('radio', { name: 'Sensitivity' }).check();
  await expect(chart.locator('.y-axis-label')).toHaveText('Sensitivity (%)');
  // 0 % at every version: no best version to mark, the majority-class line under the curve.
  await expect(chart.locator('.recharts-label', { hasText: /^Best v/ })).toHaveCount(0);
  await expect(chart.locator('.recharts-label', { hasText: 'Majority class (always “no lesion”): 0.0%' })).toBeVisible();
  await page.mouse.move(0, 0);
  await chart.screenshot({ path: testInfo.outputPath('chart-sensitivity.png') });
  await page.screenshot({ path: testInfo.outputPath('dashboard-full.png'), fullPage: true });

  await context.close();
  await api.dispose();
});
