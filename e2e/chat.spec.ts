import { redeemInvite } from './support/accounts';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

const PHONE = { width: 375, height: 740 };

test.describe('patient chat on a phone', () => {
  test.use({ viewport: PHONE });

  test('a question gets a quoted answer that cites its article, and the article opens', async ({ page, consilium }, testInfo) => {
    await page.goto(`${consilium.url}/chat`);
    await expect(page.getByRole('heading', { name: 'Ask about heart and liver health' })).toBeVisible();
    // Nothing may overflow sideways on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: testInfo.outputPath('chat-phone-start.png'), fullPage: true });

    await page.getByTestId('chat-input').fill('What is the difference between HDL and LDL cholesterol?');
    await page.getByTestId('chat-send').click();

    const reply = page.getByTestId('chat-reply').last();
    await expect(reply).toHaveAttribute('data-kind', 'answer');
    await expect(reply).toContainText('LDL');
    await expect(reply).toContainText('This is information, not a diagnosis');
    const citation = reply.getByTestId('chat-citation').first();
    await expect(citation).toHaveText(/Cholesterol/);
    await expect(citation).toHaveAttribute('href', '/chat/articles/cholesterol');
    await expect(reply).toBeInViewport();
    await page.screenshot({ path: testInfo.outputPath('chat-phone-answer.png') });

    await citation.click();
    await expect(page).toHaveURL(/\/chat\/articles\/cholesterol$/);
    const article = page.getByTestId('kb-article');
    await expect(article.getByRole('heading', { level: 1 })).toHaveText(/Cholesterol/);
    await expect(article).toContainText('Follows guidance from NHS');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: testInfo.outputPath('chat-phone-article.png') });

    // The conversation is still there on the way back (it lives in this tab), and is gone once cleared.
    await page.getByRole('link', { name: '← Back to the chat' }).click();
    await expect(page.getByTestId('chat-reply')).toHaveCount(1);
    await page.getByRole('button', { name: 'Clear conversation' }).click();
    await expect(page.getByTestId('chat-message')).toHaveCount(0);
  });

  test('an emergency gets the urgent answer first, before any article', async ({ page, consilium }, testInfo) => {
    await page.goto(`${consilium.url}/chat`);
    await page.getByTestId('chat-input').fill('I have crushing chest pain going down my left arm and I am sweating, what is cholesterol?');
    await page.getByTestId('chat-input').press('Enter');

    const messages = page.getByTestId('chat-message');
    await expect(messages).toHaveCount(2);
    const reply = messages.nth(1).getByTestId('chat-reply');
    await expect(reply).toHaveAttribute('data-kind', 'emergency');
    await expect(reply).toHaveAttribute('role', 'alert');
    await expect(reply).toContainText('Get emergency help now');
    await expect(reply).toContainText('999');
    await expect(reply).not.toContainText('Read the whole article');
    // The urgent answer's first lines are on screen, not behind the input.
    await expect(reply.getByText('Get emergency help now')).toBeInViewport();
    await page.screenshot({ path: testInfo.outputPath('chat-phone-emergency.png') });

    // A negation is not an emergency.
    await page.getByTestId('chat-input').fill('I have no chest pain, but what raises the risk of heart disease?');
    await page.getByTestId('chat-send').click();
    await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'answer');
  });

  test('an out-of-scope question gets the can\'t-answer reply with what it can answer', async ({ page, consilium }) => {
    await page.goto(`${consilium.url}/chat`);
    await page.getByTestId('chat-input').fill('Who won the football match last night?');
    await page.getByTestId('chat-send').click();
    const reply = page.getByTestId('chat-reply').last();
    await expect(reply).toHaveAttribute('data-kind', 'cant-answer');
    await expect(reply).toContainText("I can't answer that");
    await expect(reply.getByRole('link', { name: /Hepatitis C/ })).toHaveAttribute('href', '/chat/articles/hepatitis-c');
  });

  test('the input stops at the length limit, and the risk check says so while no model is approved', async ({ page, consilium }) => {
    await page.goto(`${consilium.url}/chat`);
    const input = page.getByTestId('chat-input');
    await input.fill('a'.repeat(600));
    await expect(input).toHaveValue('a'.repeat(500));
    await expect(page.getByText('0 characters left')).toBeVisible();
    await input.fill('');
    await expect(page.getByTestId('chat-send')).toBeDisabled();

    // This server has approved no model version yet (e2e/risk-check.spec.ts approves one).
    await page.getByTestId('check-risk').click();
    const reply = page.getByTestId('chat-reply').last();
    await expect(reply).toHaveAttribute('data-kind', 'risk-unavailable');
    await expect(reply).toContainText('no model has been approved');
    await expect(page.getByTestId('check-risk')).toBeEnabled();
  });
});

test('patient chat on a desktop: suggested questions answer with citations', async ({ page, consilium }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.goto(`${consilium.url}/chat`);
  await page.getByRole('button', { name: 'How is hepatitis C tested for?' }).click();
  const reply = page.getByTestId('chat-reply').last();
  await expect(reply).toHaveAttribute('data-kind', 'answer');
  await expect(reply).toContainText('antibody');
  await expect(reply.getByTestId('chat-citation').first()).toHaveAttribute('href', '/chat/articles/hepatitis-c');
  await page.getByTestId('chat-input').fill('How many mg of atorvastatin should I take?');
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'dosing');
  await page.getByTestId('chat-input').fill('I want to end my life');
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-reply').last()).toContainText('116 123');
  await page.screenshot({ path: testInfo.outputPath('chat-desktop.png'), fullPage: true });
});

test('an answer streams in over the socket, growing as it arrives, then shows whole with its citation', async ({ page, consilium }) => {
  await page.goto(`${consilium.url}/chat`);
  // Every text the streaming reply shows, in order, recorded in the page as it changes.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { streamed: string[] }).streamed = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="chat-streaming"]')?.textContent ?? '';
      if (text && text !== seen[seen.length - 1]) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('chat-input').fill('What is a normal blood pressure?');
  await page.getByTestId('chat-send').click();

  const reply = page.getByTestId('chat-reply').last();
  await expect(reply).toHaveAttribute('data-kind', 'answer');
  await expect(reply.getByTestId('chat-citation').first()).toHaveAttribute('href', '/chat/articles/blood-pressure');
  await expect(page.getByTestId('chat-streaming')).toHaveCount(0);
  const seen = await page.evaluate(() => (window as unknown as { streamed: string[] }).streamed);
  expect(seen.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < seen.length; i++) {
    expect(seen[i].startsWith(seen[i - 1])).toBe(true);
    expect(seen[i].length).toBeGreaterThan(seen[i - 1].length);
  }
  expect(seen[seen.length - 1]).toContain('Blood pressure');
});

test('a signed-in patient finds their conversation again on another visit, reopens it, and deletes their history', async ({ browser, consilium }, testInfo) => {
  const admin = await adminApi(consilium);
  let page = await redeemInvite(browser, await admin.invite({ role: 'patient' }), 'history@patients.test');
  await admin.dispose();
  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.getByTestId('chat-history').locator('summary')).toHaveText('Your saved conversations (0)');

  await page.getByTestId('chat-input').fill('What is a normal blood pressure?');
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'answer');
  await expect(page.getByTestId('chat-streaming')).toHaveCount(0);

  // Another visit (a new tab: a reload keeps the tab's own conversation on screen): the page starts
  // empty, and the conversation is in the account, titled by its question.
  const earlier = page;
  page = await earlier.context().newPage();
  await earlier.close();
  await page.goto(`${consilium.url}/chat`);
  const history = page.getByTestId('chat-history');
  await expect(page.getByTestId('chat-message')).toHaveCount(0);
  await expect(history.locator('summary')).toHaveText('Your saved conversations (1)');
  await history.locator('summary').click();
  await history.getByRole('button', { name: 'What is a normal blood pressure?' }).click();
  const messages = page.getByTestId('chat-message');
  await expect(messages).toHaveCount(2);
  await expect(messages.first()).toContainText('What is a normal blood pressure?');
  await expect(messages.last()).toContainText('Blood pressure');
  await page.screenshot({ path: testInfo.outputPath('chat-history.png'), fullPage: true });

  await history.getByRole('button', { name: 'Delete my history' }).click();
  await history.getByRole('button', { name: 'Yes, delete everything' }).click();
  await expect(history).toContainText('Your history has been deleted.');
  await expect(page.getByTestId('chat-message')).toHaveCount(0);
  await page.reload();
  await expect(history.locator('summary')).toHaveText('Your saved conversations (0)');
});
