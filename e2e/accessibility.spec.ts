import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext, Page } from '@playwright/test';
import { redeemInvite } from './support/accounts';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

/**
 * Every page of the SPA, signed out and signed in as each role, in light and dark: axe-core finds no
 * WCAG 2.2 AA violation, nothing scrolls sideways on a phone (390 x 844) or a desktop (1440 x 900),
 * and normal use logs no console error and no failed request. A second test walks the main flows
 * with the keyboard alone.
 *
 * Kept fast for CI: one server for the file, one load per page per role (both themes and both sizes
 * are checked on that load), no training.
 */

const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const THEMES = ['light', 'dark'] as const;

/** What went wrong in a page's normal use: console errors, uncaught errors, failed requests. */
interface Watch {
  problems: string[];
}

/** Records the page's console errors, uncaught errors and failed requests into `watch.problems`. */
function watchPage(page: Page, who: string): Watch {
  const watch: Watch = { problems: [] };
  const at = () => `${who} ${new URL(page.url()).pathname}`;
  page.on('console', (m) => {
    if (m.type() === 'error') watch.problems.push(`${at()}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => watch.problems.push(`${at()}: uncaught: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) watch.problems.push(`${at()}: ${r.request().method()} ${new URL(r.url()).pathname} answered ${r.status()}`);
  });
  page.on('requestfailed', (r) => {
    // Leaving a page cancels its pending requests: that is the browser's doing, not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') watch.problems.push(`${at()}: ${r.method()} ${new URL(r.url()).pathname} failed: ${r.failure()?.errorText}`);
  });
  return watch;
}

/** axe's violations, one readable line per element: rule, impact, where, and what to fix. */
async function axeViolations(page: Page, label: string): Promise<string[]> {
  // A theme switch fades the buttons' colours: axe must see the colours the page settles on. (Only
  // transitions: a spinner's animation never finishes.)
  await page.evaluate(() =>
    Promise.race([
      Promise.allSettled(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished)),
      new Promise((resolve) => setTimeout(resolve, 1_000)),
    ]),
  );
  // Violations only: axe's passes are most of its work to serialise, and nobody reads them here.
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_22_AA).options({ resultTypes: ['violations'] }).analyze();
  return violations.flatMap((v) =>
    v.nodes.map((n) => `${label}: ${v.id} (${v.impact}) ${v.help} at ${n.target.join(' ')}\n    ${(n.failureSummary ?? '').replace(/\n\s*/g, ' ')}`),
  );
}

/**
 * Chart labels (SVG text, which axe does not measure) that fall below 4.5 : 1 against the background
 * they sit on: Recharts draws them in fixed colours unless styles.css says otherwise.
 */
async function faintChartText(page: Page, label: string): Promise<string[]> {
  const faint = await page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out: string[] = [];
    for (const t of Array.from(document.querySelectorAll('svg text'))) {
      if (!t.textContent?.trim() || (t as SVGGraphicsElement).getBBox().width === 0) continue;
      const fill = rgb(getComputedStyle(t).fill);
      if (fill.length < 3) continue;
      const [a, b] = [lum(fill.slice(0, 3)), lum(background(t))].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) out.push(`"${t.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)} : 1`);
    }
    return out;
  });
  return faint.map((f) => `${label}: chart text below 4.5 : 1: ${f}`);
}

/** Whether the page scrolls sideways at the current viewport. */
async function sidewaysScroll(page: Page): Promise<{ scrollWidth: number; clientWidth: number } | null> {
  return page.evaluate(() => {
    const el = document.scrollingElement!;
    return el.scrollWidth > el.clientWidth ? { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth } : null;
  });
}

/** Resolves once the page has rendered: its heading is up and nothing is still loading. */
async function settled(page: Page): Promise<void> {
  await expect(page.locator('main h1').first()).toBeVisible();
  await expect(page.locator('main [aria-busy="true"]')).toHaveCount(0);
}

interface PageVisit {
  path: string;
  /** How failures name the page, where its path holds a secret (a sign-in link's token). */
  name?: string;
  /** Normal use on the page before it is checked (a question asked, say); waits until it has settled. */
  use?: (page: Page) => Promise<void>;
}

/** Problems with sideways scrolling at `size`; charts and frames re-measure after a resize, so allow them a moment. */
async function checkWidth(page: Page, size: { width: number; height: number }, label: string): Promise<string[]> {
  await page.setViewportSize(size);
  let wide: Awaited<ReturnType<typeof sidewaysScroll>> = null;
  try {
    await expect.poll(async () => (wide = await sidewaysScroll(page)), { timeout: 2_000 }).toBeNull();
    return [];
  } catch {
    return [`${label}: scrolls sideways at ${size.width} px (${wide!.scrollWidth} > ${wide!.clientWidth})`];
  }
}

/**
 * Checks one page in both themes (through `prefers-color-scheme`, as a person's system sets it) and at
 * both sizes, on one load; returns the problems found. axe runs twice: light at desktop size and dark
 * at phone size, so each theme and each size gets the full set of WCAG rules once.
 */
async function checkPage(page: Page, who: string, base: string, visit: PageVisit): Promise<string[]> {
  const problems: string[] = [];
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(new URL(visit.path, base).href);
  await settled(page);
  await visit.use?.(page);
  const label = (theme: string) => `${who} ${visit.name ?? visit.path} (${theme})`;

  problems.push(...(await checkWidth(page, DESKTOP, label('light'))));
  problems.push(...(await axeViolations(page, `${label('light')} ${DESKTOP.width} px`)));
  problems.push(...(await faintChartText(page, label('light'))));
  problems.push(...(await checkWidth(page, PHONE, label('light'))));

  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  problems.push(...(await checkWidth(page, PHONE, label('dark'))));
  problems.push(...(await axeViolations(page, `${label('dark')} ${PHONE.width} px`)));
  problems.push(...(await faintChartText(page, label('dark'))));
  problems.push(...(await checkWidth(page, DESKTOP, label('dark'))));
  return problems;
}

async function askQuestion(page: Page, question: string): Promise<void> {
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'answer');
}

/** The focused element, named for a failure message, and whether its focus is drawn (an outline or a ring). */
async function focusNow(page: Page): Promise<{ name: string; drawn: boolean } | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const drawn = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
    const text = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return { name: `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}> "${text}"`, drawn };
  });
}

/**
 * Presses Tab (or Shift+Tab) until `target` has the focus, at most `max` times; every element passed
 * on the way must show its focus. Fails when the target is never reached.
 */
async function tabTo(page: Page, target: ReturnType<Page['locator']>, options: { back?: boolean; max?: number } = {}): Promise<void> {
  const { back = false, max = 120 } = options;
  const unseen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const now = await focusNow(page);
    if (now && !now.drawn) unseen.push(now.name);
    if (await target.evaluate((el) => el === document.activeElement)) {
      expect(unseen, 'elements whose keyboard focus is not visible').toEqual([]);
      return;
    }
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} never reached ${target} in ${max} presses`);
}

/**
 * Tabs through the whole page from its top: focus must come back round to the first element (no
 * keyboard trap), and every stop must show its focus. Returns how many stops the page has.
 */
async function tabRound(page: Page, max = 400): Promise<number> {
  const first = page.getByRole('link', { name: 'Skip to content' });
  await first.focus();
  const unseen: string[] = [];
  for (let stops = 1; stops <= max; stops++) {
    await page.keyboard.press('Tab');
    if (await first.evaluate((el) => el === document.activeElement)) {
      expect(unseen, 'elements whose keyboard focus is not visible').toEqual([]);
      return stops;
    }
    const now = await focusNow(page);
    if (now && !now.drawn) unseen.push(now.name);
  }
  throw new Error(`Tab did not come back round to the top of ${page.url()} in ${max} presses: a keyboard trap, or too many stops`);
}

test('keyboard only: skip link, sign-in, the study actions, Join, the chat and the risk check, the theme toggle', async ({ browser, consilium }) => {
  const api = await adminApi(consilium);
  const patientInvite = await api.invite({ role: 'patient' });
  await api.dispose();
  const page = await (await browser.newContext()).newPage();

  // The admin signs in: the first Tab reaches the skip link, which leads into the page's content.
  await page.goto(`${consilium.url}/admin`);
  await expect(page.getByLabel('Email')).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  expect((await focusNow(page))?.drawn, 'the skip link shows its focus').toBe(true);
  await page.keyboard.press('Enter');
  await tabTo(page, page.getByLabel('Email'), { max: 3 });
  await page.keyboard.type(consilium.admin.email);
  await tabTo(page, page.getByLabel('Password'), { max: 2 });
  await page.keyboard.type(consilium.admin.password);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('convergence-chart')).toBeVisible();

  // The study's actions: approve the seeded version for patients (the risk check below needs one), and
  // stop (asked, then cancelled).
  await tabTo(page, page.getByRole('button', { name: 'Approve…' }).first(), { max: 250 });
  await page.keyboard.press('Enter');
  const approveForm = page.getByRole('form', { name: /^Approve v\d+$/ });
  await expect(approveForm.getByRole('textbox')).toBeFocused();
  await page.keyboard.type('keyboard-only approval, for the risk check');
  await tabTo(page, approveForm.getByRole('button', { name: /^Approve v\d+$/ }), { max: 3 });
  await page.keyboard.press('Enter');
  // With warnings, the form asks again and puts the focus on Back; the approval is one Shift+Tab away.
  const anyway = approveForm.getByRole('button', { name: /anyway$/ });
  if (await anyway.isVisible().catch(() => false)) {
    await expect(approveForm.getByRole('button', { name: 'Back' })).toBeFocused();
    await tabTo(page, anyway, { back: true, max: 2 });
    await page.keyboard.press('Enter');
  }
  await expect(page.getByText(/^Approved for patients: v\d+$/)).toBeVisible();
  await tabTo(page, page.getByRole('button', { name: 'Stop…' }), { back: true, max: 250 });
  await page.keyboard.press('Space');
  await tabTo(page, page.getByRole('button', { name: 'Stop the study' }), { max: 10 });
  await tabTo(page, page.getByRole('button', { name: 'Cancel' }), { max: 10 });
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Stop the study' })).toHaveCount(0);
  console.log(`admin dashboard: ${await tabRound(page)} tab stops, no trap`);

  // The theme toggle works from the keyboard and is remembered.
  await tabTo(page, page.getByRole('button', { name: 'Dark mode' }), { max: 10 });
  const before = await page.locator('html').getAttribute('data-theme');
  await page.keyboard.press('Enter');
  const after = before === 'dark' ? 'light' : 'dark';
  await expect(page.locator('html')).toHaveAttribute('data-theme', after);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', after);
  await page.context().close();

  // A hospital reaches Join.
  const hospital = await (await browser.newContext()).newPage();
  await hospital.goto(`${consilium.hospitals[0].url}?backend=cpu`);
  await expect(hospital.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
  await tabTo(hospital, hospital.getByTestId('join-button'));
  await expect(hospital.getByTestId('join-button')).toBeEnabled();
  console.log(`hospital page: ${await tabRound(hospital)} tab stops, no trap`);
  await hospital.context().close();

  // A patient asks a question, then starts the risk check and answers by keyboard.
  const patient = await redeemInvite(browser, patientInvite, 'keys@a11y.test');
  await expect(patient).toHaveURL(/\/chat$/);
  await expect(patient.getByTestId('chat-input')).toBeVisible();
  await patient.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(patient, patient.getByTestId('chat-input'));
  await patient.keyboard.type('What is a normal blood pressure?');
  await patient.keyboard.press('Enter');
  await expect(patient.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'answer');
  await tabTo(patient, patient.getByTestId('check-risk'), { back: true });
  await patient.keyboard.press('Enter');
  await expect(patient.getByTestId('chat-reply').last()).toContainText('How old are you?');
  await tabTo(patient, patient.getByTestId('chat-input'));
  await patient.keyboard.type('55');
  await patient.keyboard.press('Enter');
  const male = patient.getByRole('button', { name: 'Male', exact: true });
  await expect(male).toBeVisible();
  await tabTo(patient, male, { back: true });
  await patient.keyboard.press('Space');
  await expect(patient.getByTestId('risk-choice').first()).toBeVisible();
  console.log(`chat: ${await tabRound(patient)} tab stops, no trap`);
  await patient.context().close();
});

test('every page, signed out and as each role, in light and dark: no axe violations, no sideways scrolling, no errors', async ({ browser, consilium, openAdmin }) => {
  // 22 pages, each loaded once and checked twice by axe: about a minute on an idle two-core machine;
  // the margin is for a loaded one.
  test.setTimeout(360_000);
  const api = await adminApi(consilium);
  // The risk check offers the approved model: the study's seeded version 0 is enough for the page.
  await api.approve(0, 'e2e: a model for the risk check page').catch((e: Error) => {
    // The keyboard test above approved it already.
    if (!/already the approved version/.test(e.message)) throw e;
  });
  const site = consilium.hospitals[0];
  const joinUrl = await api.invite({ role: 'patient' });
  const siteAdminInvite = await api.invite({ role: 'site_admin', siteId: site.siteId });
  const patientInvite = await api.invite({ role: 'patient' });
  await api.dispose();

  const signedOut: PageVisit[] = [
    { path: '/' },
    { path: '/signin' },
    { path: '/chat' },
    { path: '/chat/articles/cholesterol' },
    { path: '/hospital' },
    { path: '/admin' },
    { path: new URL(joinUrl).pathname },
    { path: '/no-such-page' },
  ];
  const admin: PageVisit[] = [
    { path: '/admin', use: (p) => expect(p.getByTestId('convergence-chart')).toBeVisible() },
    { path: '/admin/sites' },
    { path: '/admin/audit' },
    { path: '/admin/log' },
    { path: '/admin/templates/new' },
    { path: '/admin/new-study' },
  ];
  const hospitalLink: PageVisit[] = [
    {
      path: `${new URL(site.url).pathname}?backend=cpu`,
      name: '/hospital/:token',
      use: (p) => expect(p.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 }),
    },
  ];
  const siteAdmin: PageVisit[] = [
    { path: '/hospital', use: (p) => expect(p.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 }) },
  ];
  const patient: PageVisit[] = [
    {
      path: '/chat',
      use: async (p) => {
        await askQuestion(p, 'What is a normal cholesterol level?');
        await p.getByTestId('check-risk').click();
        await expect(p.getByTestId('chat-reply').filter({ hasText: 'How old are you?' })).toBeVisible();
      },
    },
    { path: '/chat/articles/risk-estimates' },
    // The page a role may not use says so; it is one component whoever is refused, so one role checks it.
    { path: '/hospital' },
  ];

  const contexts: BrowserContext[] = [];
  const fresh = async () => {
    const context = await browser.newContext();
    contexts.push(context);
    return context.newPage();
  };
  /** Makes an account from an invite; resolves on the account's home page, signed in. */
  const signUp = async (invite: string, email: string, home: RegExp) => {
    const page = await redeemInvite(browser, invite, email);
    await expect(page).toHaveURL(home);
    return page;
  };
  const people: { who: string; page: () => Promise<Page>; visits: PageVisit[] }[] = [
    { who: 'signed out', page: fresh, visits: signedOut },
    { who: 'platform admin', page: openAdmin, visits: admin },
    { who: 'hospital link', page: fresh, visits: hospitalLink },
    { who: 'site admin', page: () => signUp(siteAdminInvite, 'boss@a11y.test', /\/hospital$/), visits: siteAdmin },
    { who: 'patient', page: () => signUp(patientInvite, 'pat@a11y.test', /\/chat$/), visits: patient },
  ];

  const problems: string[] = [];
  let checked = 0;
  for (const person of people) {
    const page = await person.page();
    const watch = watchPage(page, person.who);
    for (const visit of person.visits) {
      const t0 = Date.now();
      const found = await checkPage(page, person.who, consilium.url, visit);
      console.log(`${person.who} ${visit.name ?? visit.path}: ${found.length} problem(s) in ${Date.now() - t0} ms${found.length ? `\n${found.join('\n')}` : ''}`);
      problems.push(...found);
      checked += THEMES.length;
    }
    problems.push(...watch.problems);
    await page.context().close();
  }
  for (const c of contexts) await c.close().catch(() => {});
  console.log(`checked ${checked} page views (pages x roles x themes), ${problems.length} problem(s)`);
  expect(problems, `\n${problems.join('\n')}\n`).toEqual([]);
});

