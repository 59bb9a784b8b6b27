import { redeemInvite } from './support/accounts';
import { adminApi } from './support/adminApi';
import { demoStaffEmail } from '../server/demo/seed';
import { expect, test } from './support/fixtures';

// No round runs: the heart study waits for all three hospitals, and only one joins here.
test('a lost hospital link is revoked and replaced from the console; the old link’s tab says why it stopped', async ({ browser, consilium, openAdmin, openHospitals }, testInfo) => {
  const hospital = consilium.hospitals[0];
  const staff = demoStaffEmail(hospital.siteId);
  const [tab] = await openHospitals(1);
  await expect(tab.page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();

  // The platform admin revokes the demo hospital's links: its open tab is let go and says why.
  const admin = await openAdmin();
  await admin.getByRole('link', { name: 'Sites and people' }).click();
  await admin.locator(`[data-testid="site-row"][data-site="${hospital.siteId}"]`).getByRole('button').click();
  const panel = admin.getByTestId('site-panel');
  await expect(panel.getByRole('heading', { name: hospital.name })).toBeVisible();
  await panel.getByRole('button', { name: `Revoke sign-in links of ${staff}` }).click();
  await expect(panel.getByTestId('links-revoked')).toContainText(staff);
  await expect(tab.page.getByRole('heading', { name: 'Cannot open this site' })).toBeVisible();
  await expect(tab.page.getByRole('alert')).toHaveText('This sign-in link has been revoked; ask your site admin or study coordinator for a new one.');
  await tab.page.screenshot({ path: testInfo.outputPath('revoked-tab.png') });
  // Opened again, the old link says the same.
  await tab.page.reload();
  await expect(tab.page.getByRole('alert')).toContainText('has been revoked');

  // A new link, shown once with a copy button, opens the hospital again.
  await panel.getByRole('button', { name: `New sign-in link for ${staff}` }).click();
  const linkField = panel.getByTestId('link-url');
  await expect(linkField).toHaveValue(new RegExp(`^${consilium.url}/hospital/[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
  await expect(panel.getByTestId('new-link')).toContainText(`New sign-in link for ${staff}, valid until`);
  await expect(panel.getByRole('button', { name: 'Copy link' })).toBeVisible();
  await admin.screenshot({ path: testInfo.outputPath('new-link.png'), fullPage: true });
  const renewed = await linkField.inputValue();
  const fresh = await (await browser.newContext()).newPage();
  await fresh.goto(`${renewed}?backend=cpu`);
  await expect(fresh.getByTestId('site-name')).toHaveText(hospital.name);
  await expect(fresh.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
  await fresh.getByTestId('join-button').click();
  await expect(fresh.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();

  // The hospital's own site admin renews it too, from the hospital page: the admin's link then stops.
  const api = await adminApi(consilium);
  const bossPage = await redeemInvite(browser, await api.invite({ role: 'site_admin', siteId: hospital.siteId }), `boss@${hospital.siteId}.test`);
  await api.dispose();
  await expect(bossPage.getByTestId('site-name')).toHaveText(hospital.name);
  const own = bossPage.getByTestId('site-admin-panel');
  await own.getByRole('button', { name: `New sign-in link for ${staff}` }).click();
  await expect(own.getByTestId('link-url')).toHaveValue(/\/hospital\//);
  expect(await own.getByTestId('link-url').inputValue()).not.toBe(renewed);
  await expect(fresh.getByRole('alert')).toContainText('has been revoked', { timeout: 30_000 });

  // Both are in the audit log, by whom.
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await admin.getByLabel('What').selectOption({ label: 'Hospital sign-in links' });
  await admin.getByRole('button', { name: 'Filter' }).click();
  await expect(admin.locator('[data-testid="audit-row"][data-action="link.reissued"]')).toHaveCount(2);
  await expect(admin.locator('[data-testid="audit-row"][data-action="link.revoked"]')).toHaveCount(1);
  await expect(admin.locator('[data-testid="audit-row"][data-action="link.reissued"]').first()).toContainText(`boss@${hospital.siteId}.test`);
});
