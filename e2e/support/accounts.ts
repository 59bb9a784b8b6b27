import { expect, type Browser, type Page } from '@playwright/test';

export const TEST_PASSWORD = 'a long enough password';

/** A person opens an invite link in a browser of their own and makes their account; returns their page. */
export async function redeemInvite(browser: Browser, url: string, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password (at least 10 characters)').fill(TEST_PASSWORD);
  await page.getByLabel('Password again').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  return page;
}
