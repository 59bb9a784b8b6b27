import { expect, test } from './support/fixtures';

// The API reference renders under the server's own CSP, from its own files: on a hospital network no
// CDN answers, and a script the CSP blocks leaves a blank page that no unit test would notice.
test('the API reference page renders every route from this server alone', async ({ page, consilium }, testInfo) => {
  const origin = new URL(consilium.url).origin;
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const elsewhere: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });

  await page.goto(`${consilium.url}/api/docs`);
  await expect(page.getByRole('heading', { name: /Consilium API/ })).toBeVisible();
  const document = (await (await page.request.get(`${consilium.url}/api/openapi.json`)).json()) as { paths: Record<string, object> };
  const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  await expect(page.locator('.opblock')).toHaveCount(operations);

  // An operation opens with its parameters and body schema, taken from the route's zod schema.
  await page.locator('.opblock-summary').filter({ hasText: '/api/auth/login' }).click();
  await expect(page.locator('.opblock.is-open')).toContainText('user@example.com');
  await page.screenshot({ path: testInfo.outputPath('api-docs.png') });

  expect(problems, 'console errors (a CSP violation shows here)').toEqual([]);
  expect(elsewhere, 'requests to other origins').toEqual([]);
});
