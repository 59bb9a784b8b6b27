import fs from 'node:fs';
import { METRICS_CSV_COLUMNS } from '../shared/protocol/monitoring';
import { expect, test } from './support/fixtures';

test('the console exports a study’s metrics, and makes a monitoring API token that is shown once and works until revoked', async ({ consilium, openAdmin, request }) => {
  const admin = await openAdmin();

  // The dashboard's exports are downloads of the metrics history route.
  const exports = admin.getByTestId('metrics-export');
  const csvLink = exports.getByRole('link', { name: 'Export metrics (CSV)' });
  await expect(csvLink).toHaveAttribute('href', /^\/api\/metrics\/history\?study=[a-z0-9-]+&format=csv&limit=1000$/);
  await expect(exports.getByRole('link', { name: 'Export metrics (JSON)' })).toHaveAttribute('href', /format=json&limit=1000$/);
  await admin.screenshot({ path: test.info().outputPath('dashboard.png'), fullPage: true });
  const [download] = await Promise.all([admin.waitForEvent('download'), csvLink.click()]);
  expect(download.suggestedFilename()).toMatch(/^[a-z0-9-]+-metrics\.csv$/);
  expect(fs.readFileSync(await download.path(), 'utf8').split('\r\n')[0]).toBe(METRICS_CSV_COLUMNS.join(','));

  await admin.getByRole('link', { name: 'Sites and people' }).click();
  const panel = admin.getByTestId('api-tokens');
  await panel.getByLabel('Name').fill('Grafana');
  await panel.getByRole('button', { name: 'Create token' }).click();
  await expect(panel.getByTestId('new-api-token')).toContainText('shown once');
  const secret = await panel.getByTestId('api-token-secret').inputValue();
  expect(secret).toMatch(/^cst_/);
  const row = panel.getByTestId('api-token-row').filter({ hasText: 'Grafana' });
  await expect(row).toContainText('active');
  await admin.screenshot({ path: test.info().outputPath('api-tokens.png'), fullPage: true });

  const read = () => request.get(`${consilium.url}/api/rounds/current`, { headers: { authorization: `Bearer ${secret}` } });
  expect((await read()).status()).toBe(200);
  // Read-only: the token is no sign-in for anything else.
  expect((await request.get(`${consilium.url}/api/studies`, { headers: { authorization: `Bearer ${secret}` } })).status()).toBe(401);

  await panel.getByRole('button', { name: 'Revoke API token Grafana' }).click();
  await expect(row).toContainText('revoked');
  await expect(panel.getByTestId('new-api-token')).toHaveCount(0);
  // The list never shows the secret again.
  await expect(panel).not.toContainText(secret.slice(4));
  const refused = await read();
  expect(refused.status()).toBe(401);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
});
