import { expect, test } from './support/fixtures';

/**
 * The admin watches the server's log on the study dashboard while three hospitals train one round:
 * the hospitals' joins and the round's closing appear live, filters work on the server, and the
 * console's "Server log" page shows the whole server's lines.
 */
// e2e servers log at warn by default (e2e/support/server.ts); the round's lines are info.
test.use({ serverOptions: { env: { DEMO_ROUNDS: '1', DEMO_EPOCHS: '1', LOG_LEVEL: 'info' } } });

test('an admin sees a round close live in the study’s server log', async ({ openAdmin, openHospitals }) => {
  const admin = await openAdmin();
  await expect(admin.getByRole('heading', { name: /Heart disease risk/ })).toBeVisible();
  const view = admin.getByRole('region', { name: 'Server log' });
  const log = view.getByRole('log');
  await expect(log).toHaveAttribute('aria-live', 'polite');
  await expect(view.getByTestId('log-status')).toHaveText(/^Live/);
  const lines = log.getByTestId('log-line');
  await expect(lines.filter({ hasText: 'round aggregated' })).toHaveCount(0);

  // The page is not reloaded from here on: every line below arrives over the socket as it is logged.
  const hospitals = await openHospitals(3);
  await expect(lines.filter({ hasText: 'hospital joined' })).toHaveCount(3);
  const closed = lines.filter({ hasText: 'round aggregated' });
  await expect(closed).toHaveCount(1, { timeout: 60_000 });
  await expect(closed).toContainText(/round 1 · version 1 · contributors 3/);
  await expect(closed).toHaveAttribute('data-level', 'info');
  // Newest at the bottom.
  await expect(lines.last()).toContainText('round aggregated');
  await view.scrollIntoViewIfNeeded();
  await view.screenshot({ path: test.info().outputPath('log-view.png') });

  // Filters apply on the server: warnings only (this round had none), then one site's lines.
  await view.getByLabel('Level').selectOption('warn');
  await expect(view.getByText('No lines match yet')).toBeVisible();
  await view.getByLabel('Level').selectOption('info');
  await view.getByLabel('Site').selectOption({ label: hospitals[0].name });
  await expect(lines.filter({ hasText: 'hospital joined' })).toHaveCount(1);
  await expect(lines.filter({ hasText: 'hospital joined' })).toContainText(hospitals[0].name);
  await expect(lines.filter({ hasText: 'update accepted' })).toHaveCount(1);
  await expect(closed).toHaveCount(0);

  // The console's whole-server view keeps the last hour for whoever opens it later.
  await admin.getByRole('link', { name: 'Server log' }).click();
  await expect(admin.getByRole('heading', { name: 'Server log', level: 1 })).toBeVisible();
  await expect(admin.getByRole('log').getByTestId('log-line').filter({ hasText: 'round aggregated' })).toHaveCount(1);
});
