import type { Dashboard } from '../shared/protocol/schemas';
import { expect, test } from './support/fixtures';

/**
 * The admin console tells the truth about the model (issue 14): at a 1,280 px screen the versions
 * table fits with its actions in view, approving a doubtful version (here v0, never trained) asks
 * for a second click after saying why, a finished study has no empty round card, and the model's
 * architecture is drawn with its shapes and parameter counts.
 */

const ROUNDS = 2;
const WIDTH = 1280;
test.use({ serverOptions: { env: { DEMO_ROUNDS: String(ROUNDS) } }, viewport: { width: WIDTH, height: 800 } });

test('versions table fits at 1,280 px, doubtful approvals need confirming, and the model is drawn', async ({ consilium, openHospitals, openAdmin }, testInfo) => {
  const admin = await openAdmin();
  await openHospitals(3);
  const dashboard = async () => (await (await admin.request.get(`${consilium.url}/api/studies/heart-demo/dashboard`)).json()) as Dashboard;
  await expect.poll(async () => (await dashboard()).metrics.find((m) => m.version === ROUNDS)?.reports, { timeout: 200_000 }).toBe(3);
  await expect(admin.getByTestId('study-status')).toHaveText('completed');

  // Finished: one line says how the study ended, and no empty "Round in progress" card sits beside the chart.
  await expect(admin.getByTestId('study-finished')).toHaveText(`Study completed: ${ROUNDS} rounds, last version v${ROUNDS}.`);
  await expect(admin.getByRole('heading', { name: 'Round in progress' })).toHaveCount(0);

  // Every version, newest first, with its evaluation in.
  const rows = admin.getByTestId('version-row');
  await expect(rows).toHaveCount(ROUNDS + 1);
  const latest = admin.locator(`[data-testid="version-row"][data-version="${ROUNDS}"]`);
  await expect(latest.getByTestId('clinical')).toHaveText(/AUROC 0\.\d{3} · sens\. \d/);
  await admin.screenshot({ path: testInfo.outputPath('console.png'), fullPage: true });

  // The latest version's Approve is on screen without scrolling sideways: neither the page nor the table scrolls.
  const versions = admin.getByRole('region', { name: 'Model versions' });
  await versions.scrollIntoViewIfNeeded();
  const approveLatest = latest.getByRole('button', { name: 'Approve…' });
  const box = (await approveLatest.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(WIDTH);
  const overflow = await admin.evaluate(() => {
    const wrap = document.querySelector('[aria-labelledby="versions-title"] .table-wrap')!;
    return { page: document.documentElement.scrollWidth - window.innerWidth, table: wrap.scrollWidth - wrap.clientWidth, scrolled: window.scrollX + wrap.scrollLeft };
  });
  expect(overflow).toEqual({ page: 0, table: 0, scrolled: 0 });
  await expect(latest.getByRole('button', { name: `Copy the SHA-256 of v${ROUNDS}` })).toBeVisible();
  await expect(latest.getByRole('link', { name: `Download v${ROUNDS} model.json` })).toBeVisible();
  await versions.screenshot({ path: testInfo.outputPath('versions.png') });

  // The latest version's detail: ROC curve, reliability diagram and confusion matrix, pooled and per site, side by side.
  const reportsToggle = latest.getByTestId('site-reports-toggle');
  await reportsToggle.click();
  await expect(reportsToggle).toHaveAttribute('aria-expanded', 'true');
  const figures = admin.getByTestId('version-figures');
  const roc = figures.getByRole('figure', { name: /^ROC curve, pooled AUROC 0\.\d{3}; sites 0\.\d{3} to (0|1)\.\d{3}/ });
  await expect(roc).toBeVisible();
  await expect(roc.getByRole('img', { name: /^ROC curve, pooled AUROC/ })).toBeVisible();
  await expect(roc.locator('.recharts-line')).toHaveCount(4); // pooled, bold, and the three sites'
  await expect(roc.getByTestId('roc-legend-entry')).toHaveCount(4);
  await expect(roc.getByTestId('roc-legend-entry').first()).toHaveText(/^Pooled \(\d sites?.*\): AUROC 0\.\d{3}$/);
  await expect(roc.getByText('False positive rate')).toBeVisible();
  await expect(roc.getByText('True positive rate')).toBeVisible();
  const reliability = figures.getByRole('figure', { name: /^Reliability diagram, pooled: \d+ samples in \d+ bins?/ });
  await expect(reliability).toBeVisible();
  await expect(reliability.locator('.recharts-scatter-symbol').first()).toBeVisible();
  const matrix = figures.getByRole('figure', { name: /^Confusion matrix, pooled: \d+ samples, \d+\.\d% on the diagonal/ });
  await expect(matrix).toBeVisible();
  await expect(matrix.getByRole('columnheader', { name: 'disease present' })).toBeVisible();
  await expect(matrix.getByRole('rowheader', { name: 'no disease' })).toBeVisible();
  await expect(matrix.getByTestId('confusion-cell')).toHaveCount(4);
  // Three across at 1,280 px, and still nothing scrolls sideways.
  const [rocBox, reliabilityBox, matrixBox] = await Promise.all([roc, reliability, matrix].map(async (f) => (await f.boundingBox())!));
  expect(Math.abs(rocBox.y - reliabilityBox.y)).toBeLessThan(2);
  expect(Math.abs(rocBox.y - matrixBox.y)).toBeLessThan(2);
  expect(rocBox.x + rocBox.width).toBeLessThanOrEqual(reliabilityBox.x);
  expect(matrixBox.x + matrixBox.width).toBeLessThanOrEqual(WIDTH);
  expect(await admin.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
  await figures.screenshot({ path: testInfo.outputPath('version-figures.png') });
  // One site's reliability (beside the pooled points) and matrix instead of the pooled ones.
  await reliability.getByRole('combobox').selectOption({ index: 1 });
  await expect(figures.getByRole('figure', { name: /^Reliability diagram, (?!pooled)/ })).toBeVisible();
  await matrix.getByRole('combobox').selectOption({ index: 1 });
  await expect(figures.getByRole('figure', { name: /^Confusion matrix, (?!pooled)/ })).toBeVisible();
  await figures.screenshot({ path: testInfo.outputPath('version-figures-site.png') });
  await reportsToggle.click();
  await expect(figures).toHaveCount(0);

  // Approving v0 opens the note under v0's own row; the first Approve only shows the reasons.
  const v0 = admin.locator('[data-testid="version-row"][data-version="0"]');
  await v0.getByRole('button', { name: 'Approve…' }).click();
  const form = admin.getByRole('form', { name: 'Approve v0' });
  await expect(admin.locator('[data-testid="version-row"][data-version="0"] + tr').getByRole('form', { name: 'Approve v0' })).toBeVisible();
  await form.getByRole('textbox').fill('e2e: the initial model, on purpose');
  await form.getByRole('button', { name: 'Approve v0', exact: true }).click();
  const confirm = form.getByRole('alertdialog', { name: 'Approve v0 for patients anyway?' });
  await expect(confirm).toBeVisible();
  await expect(confirm.getByTestId('approve-reasons')).toContainText('v0 is the untrained starting model: no round has trained it.');
  // The tabs measure v0 before the first round trains on it, so it is evaluated: worse than every later version.
  await expect(confirm.getByTestId('approve-reasons')).not.toContainText('No site has evaluated v0 yet');
  await expect(confirm.getByRole('button', { name: 'Back' })).toBeFocused();
  await versions.screenshot({ path: testInfo.outputPath('approve-v0-confirm.png') });
  // Not approved until confirmed.
  await expect(admin.getByTestId('approved-version')).toHaveText(/No version approved/);
  expect((await dashboard()).study.currentVersion).toBe(ROUNDS);
  const approvals = async () => (await (await admin.request.get(`${consilium.url}/api/studies/heart-demo/approvals`)).json()) as unknown[];
  expect(await approvals()).toEqual([]);

  // Back returns to the note; a second, explicit click approves anyway.
  await confirm.getByRole('button', { name: 'Back' }).click();
  await expect(confirm).toHaveCount(0);
  await form.getByRole('button', { name: 'Approve v0', exact: true }).click();
  await form.getByRole('button', { name: 'Approve v0 anyway' }).click();
  await expect(admin.getByTestId('approved-version')).toHaveText('Approved for patients: v0');
  await expect(v0.getByText('approved')).toBeVisible();
  expect(await approvals()).toHaveLength(1);

  // The model (heart-risk version 2): 22 encoded inputs and 13 missing indicators, a hidden layer of 16, one sigmoid output; 593 parameters.
  const model = admin.getByTestId('model-panel');
  await model.scrollIntoViewIfNeeded();
  const nodes = model.getByTestId('model-node');
  await expect(nodes).toHaveCount(3);
  await expect(nodes.nth(0)).toContainText('Input');
  await expect(nodes.nth(0)).toContainText('13 features and whether each was missing, encoded to 35 values');
  await expect(nodes.nth(0).getByTestId('model-node-shape')).toHaveText('35');
  await expect(nodes.nth(1)).toContainText('Dense');
  await expect(nodes.nth(1)).toContainText('16 units');
  await expect(nodes.nth(1)).toContainText('relu');
  await expect(nodes.nth(1).getByTestId('model-node-shape')).toHaveText('16');
  await expect(nodes.nth(1).getByTestId('model-node-parameters')).toHaveText('576');
  await expect(nodes.nth(2)).toContainText('Dense (output)');
  await expect(nodes.nth(2)).toContainText('sigmoid');
  await expect(nodes.nth(2).getByTestId('model-node-parameters')).toHaveText('17');
  await expect(model.getByTestId('model-total-parameters')).toHaveText('593');
  await model.screenshot({ path: testInfo.outputPath('model-graph.png') });

  // The lesion study's CNN, drawn the same way: 34,081 parameters.
  await admin.getByLabel('Study', { exact: true }).selectOption('lesion-demo');
  await expect(admin.getByTestId('study-name')).toHaveText('Lesions on scans (demo)');
  // A study still waiting for its sites keeps its round card.
  await expect(admin.getByRole('heading', { name: 'Round in progress' })).toBeVisible();
  await expect(admin.getByTestId('study-finished')).toHaveCount(0);
  await expect(model.getByTestId('model-node')).toHaveCount(8);
  await expect(model.getByTestId('model-total-parameters')).toHaveText('34,081');
  await model.screenshot({ path: testInfo.outputPath('model-graph-cnn.png') });
});
