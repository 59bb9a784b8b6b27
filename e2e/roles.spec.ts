import type { Page } from '@playwright/test';
import { redeemInvite as redeem, TEST_PASSWORD as PASSWORD } from './support/accounts';
import { expect, test } from './support/fixtures';

async function invite(admin: Page, role: string): Promise<string> {
  const panel = role === 'Patient' ? admin.getByRole('region', { name: 'Patient accounts' }) : admin.getByTestId('site-panel');
  if (role !== 'Patient') await panel.getByLabel('Invite a').selectOption({ label: role });
  const url = panel.getByTestId('invite-url');
  const before = (await url.count()) ? await url.inputValue() : '';
  await panel.getByRole('button', { name: 'Create invite' }).click();
  await expect(url).toHaveValue(/\/join\/[A-Za-z0-9_-]{20,}$/);
  await expect(url).not.toHaveValue(before);
  return url.inputValue();
}

test('each role signs in through an invite and sees only its own pages; a suspended site is shut out', async ({ browser, consilium, openAdmin }) => {
  // Signed out: the console and the hospital page ask for a sign-in; the chatbot is open to all.
  const anonymous = await (await browser.newContext()).newPage();
  await anonymous.goto(`${consilium.url}/admin`);
  await expect(anonymous.getByRole('heading', { name: 'Admin console' })).toBeVisible();
  await anonymous.goto(`${consilium.url}/hospital`);
  await expect(anonymous.getByRole('heading', { name: 'Hospital sign-in' })).toBeVisible();
  await anonymous.goto(`${consilium.url}/chat`);
  await expect(anonymous.getByRole('textbox')).toBeVisible();

  // The platform admin creates a site and invites its site admin, a nurse, and a patient.
  const admin = await openAdmin();
  await admin.getByRole('link', { name: 'Sites and people' }).click();
  await admin.getByLabel('New site').fill('Riverside Clinic');
  await admin.getByRole('button', { name: 'Create site' }).click();
  await expect(admin.getByTestId('site-panel').getByRole('heading', { name: 'Riverside Clinic' })).toBeVisible();
  const siteAdminUrl = await invite(admin, 'Site admin');
  const staffUrl = await invite(admin, 'Hospital staff');
  const patientUrl = await invite(admin, 'Patient');
  await admin.screenshot({ path: test.info().outputPath('admin-sites.png'), fullPage: true });

  // Staff land on their hospital page, for their own site; the console refuses them.
  const nurse = await redeem(browser, staffUrl, 'nurse@riverside.test');
  await expect(nurse).toHaveURL(/\/hospital$/);
  await expect(nurse.getByTestId('site-name')).toHaveText('Riverside Clinic');
  await expect(nurse.getByTestId('account')).toHaveAttribute('data-role', 'staff');
  await nurse.goto(`${consilium.url}/admin`);
  await expect(nurse.getByTestId('forbidden')).toContainText('Riverside Clinic');
  await expect(nurse.getByTestId('convergence-chart')).toHaveCount(0);

  const boss = await redeem(browser, siteAdminUrl, 'boss@riverside.test');
  await expect(boss.getByTestId('site-name')).toHaveText('Riverside Clinic');
  await expect(boss.getByTestId('account')).toHaveAttribute('data-role', 'site_admin');
  await boss.goto(`${consilium.url}/admin/sites`);
  await expect(boss.getByTestId('forbidden')).toBeVisible();

  // Patients land on the chatbot; the console and the hospital page are not theirs.
  const patient = await redeem(browser, patientUrl, 'pat@patients.test');
  await expect(patient).toHaveURL(/\/chat$/);
  await expect(patient.getByTestId('account')).toHaveAttribute('data-role', 'patient');
  await patient.goto(`${consilium.url}/hospital`);
  await expect(patient.getByRole('heading', { name: 'Hospital staff only' })).toBeVisible();
  await patient.goto(`${consilium.url}/admin`);
  await expect(patient.getByTestId('forbidden')).toBeVisible();

  // An invite works once.
  const again = await (await browser.newContext()).newPage();
  await again.goto(staffUrl);
  await expect(again.getByTestId('invite-error')).toHaveText(/already been used/);

  // The admin sees the enrolments in the audit log, then suspends the site: its people are shut out.
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await admin.getByLabel('What').selectOption({ label: 'Enrolments' });
  await admin.getByRole('button', { name: 'Filter' }).click();
  await expect(admin.getByTestId('audit-row')).toHaveCount(3);
  await admin.screenshot({ path: test.info().outputPath('admin-audit.png'), fullPage: true });
  await admin.getByRole('link', { name: 'Sites and people' }).click();
  await admin.getByTestId('site-row').filter({ hasText: 'Riverside Clinic' }).getByRole('button').click();
  await admin.getByRole('button', { name: 'Suspend…' }).click();
  await admin.getByRole('button', { name: 'Suspend Riverside Clinic' }).click();
  await expect(admin.getByTestId('site-suspended')).toBeVisible();
  await nurse.goto(`${consilium.url}/hospital`);
  await expect(nurse.getByRole('heading', { name: 'Hospital sign-in' })).toBeVisible();
  await nurse.getByLabel('Email').fill('nurse@riverside.test');
  await nurse.getByLabel('Password').fill(PASSWORD);
  await nurse.getByRole('button', { name: 'Sign in' }).click();
  await expect(nurse.getByRole('alert')).toHaveText(/suspended/);

  // The patient is not at that site, and keeps the chatbot.
  await patient.goto(`${consilium.url}/chat`);
  await expect(patient.getByTestId('account')).toHaveAttribute('data-role', 'patient');
});
