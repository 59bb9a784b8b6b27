import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config';
import { fingerprintImages } from '../shared/data/images/fingerprint';
import { scanPixels } from '../shared/data/images/pixels';
import type { ImageBatch } from '../shared/data/images/batch';
import type { Dashboard } from '../shared/protocol/schemas';
import { generateLesionImages, lesionHospitals } from '../shared/synthetic/lesions';
import { lesionImages } from '../shared/tasks';
import { adminApi } from './support/adminApi';
import { expect, recordTraffic, test as base, type HospitalTab } from './support/fixtures';
import { encodePng, toRgba } from './support/png';

const STUDY = 'lesion-demo';
const SIZE = lesionImages.image!.width;

type OpenSite = (siteId: string, backend: 'cpu' | 'webgl' | 'webgpu', options?: { ownBrowser?: boolean }) => Promise<HospitalTab>;

/**
 * Lesion demo sites are not among the fixture's first hospitals: a tab for one of them, by site id.
 * `ownBrowser` opens it in a browser of its own, as a second hospital's machine would be: WebGL and
 * WebGPU training at once in one Chromium's SwiftShader GPU process stall each other here.
 */
const test = base.extend<{ openSite: OpenSite }>({
  openSite: async ({ browser, consilium }, use) => {
    const contexts: Awaited<ReturnType<Browser['newContext']>>[] = [];
    const browsers: Browser[] = [];
    await use(async (siteId, backend, options = {}) => {
      const link = consilium.hospitals.find((h) => h.siteId === siteId);
      if (!link) throw new Error(`no demo link for ${siteId} in the banner:\n${consilium.output()}`);
      let host = browser;
      if (options.ownBrowser) {
        host = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
        browsers.push(host);
      }
      const context = await host.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      const page = await context.newPage();
      const traffic = recordTraffic(context, page);
      page.on('pageerror', (err) => console.error(`[${link.name}] page error:`, err.message));
      await page.goto(`${link.url}?backend=${backend}`);
      await expect(page.getByTestId('site-name')).toHaveText(link.name);
      await expect(page.getByTestId('study-name')).toHaveText('Lesions on scans (demo)');
      await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
      return { name: link.name, siteId, context, page, traffic };
    });
    for (const c of contexts) await c.close();
    for (const b of browsers) await b.close();
  },
});

// One round of one local epoch: the CNN on SwiftShader is the slow part of this file.
test.use({ serverOptions: { env: { DEMO_ROUNDS: '1', DEMO_EPOCHS: '1' } } });

interface WrittenScan {
  path: string;
  label: number;
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * A hospital's export: seeded synthetic scans at 48 px as PNG files in `positive/` and `negative/`,
 * one of them RGB and one not square, plus a file that is not an image under a PNG name and a note.
 */
function writeScanFolder(root: string): { scans: WrittenScan[]; broken: string } {
  const profile = { ...lesionHospitals[0], id: 'e2e-export', size: 20, positiveRate: 0.5, seed: 4242 };
  const gen = generateLesionImages(profile, 48);
  const scans: WrittenScan[] = [];
  for (let i = 0; i < gen.n; i++) {
    const gray = Uint8Array.from(gen.images.subarray(i * 48 * 48, (i + 1) * 48 * 48), (v) => Math.round(v * 255));
    const label = gen.labels[i];
    const rel = `scans/${label ? 'positive' : 'negative'}/scan-${String(i + 1).padStart(2, '0')}.png`;
    let png: Buffer;
    let scan: WrittenScan;
    if (i === 3) {
      // A colour export of a gray scan.
      const rgb = new Uint8Array(48 * 48 * 3).map((_, k) => gray[Math.floor(k / 3)]);
      png = encodePng(rgb, 48, 48, 3);
      scan = { path: rel, label, rgba: toRgba(rgb, 48, 48, 3), width: 48, height: 48 };
    } else if (i === 4) {
      // Cropped to 48 × 40: stretched back to a square on import.
      const cropped = gray.subarray(0, 48 * 40);
      png = encodePng(cropped, 48, 40, 1);
      scan = { path: rel, label, rgba: toRgba(cropped, 48, 40, 1), width: 48, height: 40 };
    } else {
      png = encodePng(gray, 48, 48, 1);
      scan = { path: rel, label, rgba: toRgba(gray, 48, 48, 1), width: 48, height: 48 };
    }
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), png);
    scans.push(scan);
  }
  const broken = 'scans/positive/broken.png';
  fs.writeFileSync(path.join(root, broken), 'this is a text file, not a PNG\n');
  fs.writeFileSync(path.join(root, 'scans/notes.txt'), 'exported 2024-05-01\n');
  return { scans, broken };
}

/** What the worker must store for these files: the same pure pixel maths, in path order. */
async function expectedFingerprint(scans: WrittenScan[]): Promise<string> {
  const sorted = [...scans].sort((a, b) => (a.path < b.path ? -1 : 1));
  const size = SIZE * SIZE;
  const batch: ImageBatch = { kind: 'images', n: sorted.length, height: SIZE, width: SIZE, channels: 1, ids: sorted.map((s) => s.path), pixels: new Uint8Array(sorted.length * size), labels: Uint8Array.from(sorted.map((s) => s.label)) };
  sorted.forEach((s, i) => batch.pixels.set(scanPixels(s.rgba, s.width, s.height, SIZE, SIZE), i * size));
  return fingerprintImages(lesionImages, [batch]);
}

async function activeFingerprint(page: Page): Promise<string> {
  return (await page.getByTestId('dataset-fingerprint-short').getAttribute('data-fingerprint')) ?? '';
}

test('a folder of PNG scans is decoded in the worker, previewed, imported, and survives a reload', async ({ openSite }, testInfo) => {
  const root = testInfo.outputPath('export');
  const { scans, broken } = writeScanFolder(root);
  const positives = scans.filter((s) => s.label === 1).length;
  const want = await expectedFingerprint(scans);

  const tab = await openSite('lesion-e', 'cpu');
  const { page } = tab;
  const demoFingerprint = await activeFingerprint(page);

  await page.getByTestId('image-folder-input').setInputFiles(path.join(root, 'scans'));
  await expect(page.getByTestId('import-review')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('import-file-name')).toHaveText('scans');
  await expect(page.getByTestId('image-count')).toHaveText(String(scans.length + 1));
  await expect(page.getByTestId('image-accepted')).toHaveText(String(scans.length));
  await expect(page.getByTestId('image-failed')).toHaveText('1');
  // The file that is not an image is listed by name with its reason.
  const failure = page.getByTestId('image-failure');
  await expect(failure).toHaveCount(1);
  await expect(failure).toHaveAttribute('data-path', broken);
  await expect(failure).toContainText('not a PNG or JPEG image');
  // Labels from the folder names, guessed and shown.
  const mapping = page.getByTestId('label-mapping');
  await expect(mapping.locator('tr[data-value="negative"] select')).toHaveValue('0');
  await expect(mapping.locator('tr[data-value="positive"] select')).toHaveValue('1');
  await expect(page.getByTestId('label-balance')).toContainText(`lesion: ${positives}`);
  await expect(page.getByTestId('label-balance')).toContainText(`no lesion: ${scans.length - positives}`);
  await expect(page.getByTestId('import-issues')).toContainText('not square');
  await expect(page.getByTestId('import-issues')).toContainText('neither PNG nor JPEG');
  // A few thumbnails per class: the file and the 32 × 32 gray image the model sees.
  await expect(page.getByTestId('image-thumbnail')).toHaveCount(12);
  await expect(page.locator('[data-testid="image-thumbnail"] img').first()).toHaveJSProperty('complete', true);
  const rate = page.getByTestId('image-decode-rate');
  console.log(`folder import: ${await rate.getAttribute('data-images')} images decoded in ${await rate.getAttribute('data-ms')} ms`);

  await page.getByTestId('import-review').scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('image-preview.png'), fullPage: true });
  if (process.env.IMAGE_SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.IMAGE_SCREENSHOT_DIR, 'image-preview.png'), fullPage: true });

  // Nothing changed yet: the demo scans are still in use.
  expect(await activeFingerprint(page)).toBe(demoFingerprint);
  await page.getByTestId('import-commit').click();
  await expect(page.getByTestId('import-done')).toHaveText(`Imported ${scans.length} images from scans (1 left out).`);
  await expect(page.getByTestId('records-count')).toHaveText(String(scans.length));
  await expect(page.getByTestId('dataset-source')).toHaveText('scans');
  // The same pixels, resized by the same maths in Node, give the same fingerprint.
  expect(await activeFingerprint(page)).toBe(want);

  await page.reload();
  await expect(page.getByTestId('records-count')).toHaveText(String(scans.length), { timeout: 30_000 });
  expect(await activeFingerprint(page)).toBe(want);
  const active = page.locator('[data-testid="dataset-row"][data-active="true"]');
  await expect(active).toContainText('image import');
  await expect(page.getByTestId('train-count')).toHaveText(String(scans.length - Math.round(0.2 * positives) - Math.round(0.2 * (scans.length - positives))));

  // Labels from a CSV chosen with loose files; a value mapped to "leave out"; then cancel: nothing changes.
  const loose = testInfo.outputPath('loose');
  fs.mkdirSync(loose, { recursive: true });
  const files = ['a.png', 'b.png', 'c.png', 'd.png'].map((name, i) => {
    fs.writeFileSync(path.join(loose, name), fs.readFileSync(path.join(root, scans[i].path)));
    return path.join(loose, name);
  });
  fs.writeFileSync(path.join(loose, 'labels.csv'), 'file,label\na.png,1\nb.png,0\nc.png,lesion\n');
  await page.getByTestId('image-file-input').setInputFiles([...files, path.join(loose, 'labels.csv')]);
  await expect(page.getByTestId('import-review')).toBeVisible();
  await expect(page.getByTestId('image-accepted')).toHaveText('3');
  await expect(page.getByTestId('image-unlabelled')).toHaveText('1');
  // Every value was recognised, so the label section starts folded.
  await page.getByTestId('labels-section').locator('summary').click();
  await expect(page.getByTestId('label-mapping').locator('tbody tr')).toHaveCount(3);
  await page.getByTestId('label-mapping').locator('tr[data-value="lesion"] select').selectOption({ label: 'leave these images out' });
  await expect(page.getByTestId('import-commit')).toBeDisabled();
  await page.getByTestId('label-apply').click();
  await expect(page.getByTestId('image-accepted')).toHaveText('2');
  await expect(page.getByTestId('image-unlabelled')).toHaveText('2');
  await page.getByTestId('import-cancel').click();
  await expect(page.getByTestId('image-dropzone')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('records-count')).toHaveText(String(scans.length), { timeout: 30_000 });
  expect(await activeFingerprint(page)).toBe(want);
  await expect(page.getByTestId('dataset-row')).toHaveCount(2);

  // Nothing the import read left the tab: no PNG bytes, no stored pixels.
  const pngs = scans.slice(0, 4).map((s) => fs.readFileSync(path.join(root, s.path)));
  for (const req of tab.traffic.requestBodies) {
    for (const png of pngs) expect(req.body.includes(png.subarray(png.length - 40, png.length - 12)), `PNG data in ${req.url}`).toBe(false);
  }
});

/** Byte patterns stored scans would leave in a request: 8-bit pixels, and pixels as float32 and float64. */
function pixelNeedles(rows: number[][]): { what: string; bytes: Buffer }[] {
  const needles: { what: string; bytes: Buffer }[] = [];
  rows.forEach((row, k) => {
    needles.push({ what: `scan ${k} row as bytes`, bytes: Buffer.from(row.slice(0, 24)) });
    const f32 = Buffer.alloc(4 * 8);
    const f64 = Buffer.alloc(8 * 4);
    row.slice(4, 12).forEach((v, i) => f32.writeFloatLE(v / 255, 4 * i));
    row.slice(4, 8).forEach((v, i) => f64.writeDoubleLE(v / 255, 8 * i));
    needles.push({ what: `scan ${k} pixels as float32`, bytes: f32 }, { what: `scan ${k} pixels as float64`, bytes: f64 });
    needles.push({ what: `scan ${k} pixels as text`, bytes: Buffer.from(row.slice(0, 8).join(',')) });
  });
  return needles;
}

async function storedScanRows(page: Page, siteId: string): Promise<number[][]> {
  return page.evaluate(async (name) => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const chunks = await new Promise<{ kind?: string; pixels?: Uint8Array; width: number }[]>((res) => {
      const r = db.transaction('records').objectStore('records').getAll();
      r.onsuccess = () => res(r.result);
    });
    db.close();
    const c = chunks.find((x) => x.kind === 'images')!;
    const size = c.width * c.width;
    // The middle row of the first five scans: tissue texture and noise, never flat.
    return [0, 1, 2, 3, 4].map((i) => Array.from(c.pixels!.subarray(i * size + 16 * c.width, i * size + 17 * c.width)));
  }, `consilium-site-${siteId}`);
}

test('an image study trains a round on WebGL and on WebGPU, and no pixel leaves the browser', async ({ consilium, openSite, openAdmin }) => {
  const admin = await openAdmin();
  await admin.goto(`${consilium.url}/admin?study=${STUDY}`);
  await expect(admin.getByRole('heading', { name: /Lesions on scans/ })).toBeVisible();

  const webgl = await openSite('lesion-b', 'webgl');
  const webgpu = await openSite('lesion-c', 'webgpu', { ownBrowser: true });
  await expect(webgl.page.getByTestId('backend')).toHaveText('webgl', { timeout: 60_000 });
  await expect(webgpu.page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  const started = Date.now();
  for (const t of [webgl, webgpu]) await t.page.getByTestId('join-button').click();

  // The admin lists all five lesion sites; two are online.
  await expect(admin.getByTestId('participant-row')).toHaveCount(lesionHospitals.length);
  const api = await adminApi(consilium);
  await expect.poll(async () => (await api.dashboard(STUDY)).participants.filter((p) => p.connected).map((p) => p.siteId).sort()).toEqual(['lesion-b', 'lesion-c']);
  await expect(admin.getByTestId('metrics-row')).toHaveCount(1, { timeout: 150_000 });
  await expect.poll(async () => (await api.dashboard(STUDY)).metrics.find((m) => m.round === 1)?.reports, { timeout: 60_000 }).toBe(2);
  const d: Dashboard = await api.dashboard(STUDY);
  await api.dispose();
  expect(d.study).toMatchObject({ status: 'completed', completedRounds: 1, currentVersion: 1 });
  expect(d.participants.filter((p) => p.connected).map((p) => p.backend).sort()).toEqual(['webgl', 'webgpu']);
  const round = d.rounds.find((r) => r.round === 1)!;
  expect(round).toMatchObject({ status: 'closed', sampled: 2, received: 2 });
  const metrics = d.metrics.find((m) => m.round === 1)!;
  expect(metrics.accuracy).toBeGreaterThan(0);
  expect(metrics.loss).toBeGreaterThan(0);
  for (const t of [webgl, webgpu]) await expect(t.page.getByTestId('last-accuracy')).toHaveText(/\d+(\.\d+)? ?%/);
  const roundMs = new Date(round.closedAt!).getTime() - new Date(round.openedAt).getTime();
  console.log(`lesion round 1 on webgl + webgpu (SwiftShader): open to closed ${(roundMs / 1000).toFixed(1)} s; join to evaluated ${((Date.now() - started) / 1000).toFixed(1)} s; accuracy ${(100 * metrics.accuracy!).toFixed(1)} %`);

  // The network check: the stored scans' pixels appear in no request body and no WebSocket frame.
  for (const t of [webgl, webgpu]) {
    const rows = await storedScanRows(t.page, t.siteId);
    for (const row of rows) expect(new Set(row).size, 'a stored scan row has texture').toBeGreaterThan(4);
    const needles = pixelNeedles(rows);
    const uploads = t.traffic.requestBodies.filter((r) => /\/rounds\/\d+\/updates$/.test(r.url));
    expect(uploads.length, `${t.name} uploaded its update`).toBeGreaterThanOrEqual(1);
    const control = [...t.traffic.wsFramesSent, ...t.traffic.requestBodies.map((r) => r.body.toString('latin1'))];
    expect(control.some((f) => f.includes('hospital:evaluation')), `${t.name} reported its evaluation`).toBe(true);
    for (const req of t.traffic.requestBodies) {
      for (const n of needles) expect(req.body.includes(n.bytes), `${t.name}: ${n.what} in ${req.method} ${req.url}`).toBe(false);
    }
    for (const frame of t.traffic.wsFramesSent) {
      const bytes = Buffer.from(frame, 'latin1');
      for (const n of needles) expect(bytes.includes(n.bytes), `${t.name}: ${n.what} in a WebSocket frame`).toBe(false);
    }
  }
});
