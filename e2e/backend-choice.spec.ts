import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';

/**
 * The training backend chosen by measurement, in a real tab: WebGPU's SwiftShader adapter is a
 * fallback and not used, the others are timed on the study's model with their gradients checked
 * against the CPU's, and a backend made to disagree (`?perturbBackend=`, a test hook) is refused.
 */

test.use({ serverOptions: { env: { DEMO_ROUNDS: '1' } } });

const figure = (page: Page, backend: string) => page.locator(`[data-testid="backend-figure"][data-backend="${backend}"]`);

const describe = (fs: Awaited<ReturnType<typeof figures>>) => fs.map((f) => `  ${f.backend}: ${f.verdict}, gradient error ${f.error}${f.reason ? `, ${f.reason}` : ''}`).join('\n');

async function figures(page: Page) {
  return page.getByTestId('backend-figure').evaluateAll((rows) =>
    rows.map((r) => ({
      backend: r.getAttribute('data-backend'),
      verdict: r.getAttribute('data-verdict'),
      error: r.querySelector('[data-testid="gradient-error"]')?.textContent,
      reason: r.querySelector('[data-testid="verdict-reason"]')?.textContent,
    })),
  );
}

test('a backend whose gradients disagree with the CPU is refused; the fastest correct one trains', async ({ browser, consilium }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const hospital = consilium.hospitals[0];
  await page.goto(`${hospital.url}?perturbBackend=wasm`);
  await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
  await expect(page.getByTestId('backend-figures')).toBeVisible({ timeout: 120_000 });
  console.log(`measured, wasm perturbed:\n${describe(await figures(page))}`);

  await expect(figure(page, 'wasm')).toHaveAttribute('data-verdict', 'refused');
  await expect(figure(page, 'wasm').getByTestId('verdict-reason')).toHaveText(/results differ from the reference/);
  await expect(figure(page, 'wasm').getByTestId('gradient-error')).toHaveText(/^no: differs by 5\.0e-2/);
  // SwiftShader's WebGPU adapter is a fallback: passed over without measuring.
  await expect(figure(page, 'webgpu')).toHaveAttribute('data-verdict', 'unavailable');
  await expect(figure(page, 'webgpu').getByTestId('verdict-reason')).toHaveText(/fallback adapter/);
  await expect(figure(page, 'cpu').getByTestId('gradient-error')).toHaveText('is the reference');
  await expect(page.getByTestId('backend-summary')).toContainText(/It trains with (WebGL|JavaScript)/);
  const chosen = page.locator('[data-testid="backend-figure"][data-verdict="chosen"]');
  await expect(chosen).toHaveCount(1);
  const chosenBackend = await chosen.getAttribute('data-backend');
  expect(['webgl', 'cpu']).toContain(chosenBackend);
  await expect(page.getByTestId('backend')).toHaveText(chosenBackend!);
  expect(await page.evaluate(() => window.__consilium!.worker.getBackend())).toBe(chosenBackend);

  // Without the hook, the measurement is kept for this browser and model: a reload does not measure again.
  await page.goto(hospital.url);
  await expect(page.getByTestId('backend-figures')).toContainText('measured now', { timeout: 120_000 });
  const measured = await figures(page);
  console.log(`measured:\n${describe(measured)}`);
  expect(measured.find((f) => f.backend === 'wasm')?.verdict).not.toBe('refused');
  await page.reload();
  await expect(page.getByTestId('backend-figures')).toContainText('kept for this browser and model', { timeout: 60_000 });
  expect(await figures(page)).toEqual(measured);
  const cachedChoice = measured.find((f) => f.verdict === 'chosen')!.backend;
  await expect(page.getByTestId('backend')).toHaveText(cachedChoice!);
  await context.close();
});

test('a forced backend is used as it is, with no measuring', async ({ openHospitals }) => {
  const [h] = await openHospitals(1, { backend: 'cpu', join: false });
  await expect(h.page.getByTestId('backend')).toHaveText('cpu');
  await expect(h.page.getByTestId('join-button')).toBeEnabled();
  await expect(h.page.getByTestId('backend-figures')).toHaveCount(0);
});
