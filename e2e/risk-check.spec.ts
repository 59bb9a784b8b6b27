import * as tf from '@tensorflow/tfjs';
import type { Page } from '@playwright/test';
import { publicRiskModelSchema } from '../shared/protocol/riskModel';
import { encodeRecords } from '../shared/tasks';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

const PHONE = { width: 375, height: 740 };

/**
 * Distinctive answers, so their traces would stand out in the traffic. The numbers that matter are
 * the free-typed ones; `fbs` is left as "don't know" to exercise imputation.
 */
const ANSWERS = { age: 63, sex: 1, cp: 1, trestbps: 145, chol: 347, fbs: null, restecg: 0, thalach: 171, exang: 0, oldpeak: 2.7, slope: 2, ca: 0, thal: 7 };
/** How each typed value could appear in a URL or a body: as typed, and as JSON or a form would write it. */
const NEEDLES = ['63', '145', '347', '171', '2.7', '2,7'];

interface Sent {
  url: string;
  method: string;
  body: Buffer | null;
  /** Sent after the patient's first answer. */
  afterAnswers: boolean;
}

function f32(v: number) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return b;
}

/** A needle as a whole number: "63" in "age=63" or "[63," but not in an asset hash like "a63b". */
const standalone = (needle: string) => new RegExp(`(?<![A-Za-z0-9.,])${needle.replace('.', '\\.')}(?![A-Za-z0-9]|[.,]\\d)`);

async function answerTyped(page: Page, text: string) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

async function expectQuestion(page: Page, feature: string) {
  await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-feature', feature);
}

test.describe('risk check on a phone', () => {
  test.use({ viewport: PHONE });

  test('asks each value, refuses an impossible one, estimates on the device, and sends none of the answers', async ({ page, consilium }, testInfo) => {
    // Approving version 0 (the study's seeded initial model) is enough to test the mechanics: loading
    // the approved model, encoding, attributions and the privacy of the answers. It keeps the test
    // fast: no federated round to wait for. The model's estimate is then meaningless, which the page
    // says: no hospital has reported validation results for it.
    const admin = await adminApi(consilium);
    await admin.approve(0, 'e2e: the initial model, to test the risk check mechanics');
    await admin.dispose();

    const sent: Sent[] = [];
    const frames: string[] = [];
    let answering = false;
    // Context-level events include requests made by the page's dedicated workers (the model files
    // below are fetched by the risk worker only, so seeing them proves the worker's traffic is here).
    page.context().on('request', (req) => sent.push({ url: req.url(), method: req.method(), body: req.postDataBuffer(), afterAnswers: answering }));
    page.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1'))));
    page.on('pageerror', (err) => console.error('page error:', err.message));

    await page.goto(`${consilium.url}/chat`);
    await page.getByTestId('check-risk').click();
    await expect(page.getByTestId('chat-reply').filter({ hasText: 'Your answers stay on this device' })).toBeVisible();
    await expectQuestion(page, 'age');
    await expect(page.getByTestId('chat-reply').last()).toContainText('How old are you?');
    await expect(page.getByTestId('chat-reply').last()).toContainText('from 18 to 100 years');
    await expect(page.getByTestId('check-risk')).toBeDisabled();

    answering = true;
    // An impossible value first: refused, naming the range, and the same question stays.
    await answerTyped(page, '150');
    const refusal = page.getByTestId('chat-reply').last();
    await expect(refusal).toHaveAttribute('data-kind', 'risk-refusal');
    await expect(refusal).toContainText('150 years is not a possible age for this check: it must be from 18 to 100 years');
    await page.screenshot({ path: testInfo.outputPath('risk-phone-refusal.png') });
    await answerTyped(page, String(ANSWERS.age));

    await expectQuestion(page, 'sex');
    await page.getByRole('button', { name: 'Male', exact: true }).click();
    await expectQuestion(page, 'cp');
    await expect(page.getByTestId('risk-choice')).toHaveCount(4);
    await page.screenshot({ path: testInfo.outputPath('risk-phone-choices.png') });
    await page.getByTestId('risk-choice').filter({ hasText: '(typical angina)' }).click();
    await expectQuestion(page, 'trestbps');
    await answerTyped(page, `${ANSWERS.trestbps}/85`);
    await expectQuestion(page, 'chol');
    // Another impossible value, in other words: the refusal names the cholesterol range.
    await answerTyped(page, '1500');
    await expect(page.getByTestId('chat-reply').last()).toContainText('from 100 to 600 mg/dl');
    await answerTyped(page, `${ANSWERS.chol} mg/dl`);
    await expectQuestion(page, 'fbs');
    await page.getByTestId('risk-unknown').click();
    await expect(page.getByTestId('chat-reply').filter({ hasText: 'I’ll use the typical value' })).toBeVisible();
    await expectQuestion(page, 'restecg');
    await answerTyped(page, 'normal');
    await expectQuestion(page, 'thalach');
    await answerTyped(page, String(ANSWERS.thalach));
    await expectQuestion(page, 'exang');
    await page.getByRole('button', { name: 'No', exact: true }).click();
    await expectQuestion(page, 'oldpeak');
    await answerTyped(page, '2.7');
    await expectQuestion(page, 'slope');
    await page.getByRole('button', { name: 'Flat', exact: true }).click();
    await expectQuestion(page, 'ca');
    await answerTyped(page, '0');
    await expectQuestion(page, 'thal');
    await page.getByTestId('risk-choice').filter({ hasText: 'reversible defect' }).click();

    const result = page.getByTestId('risk-result');
    await expect(result).toBeVisible({ timeout: 60_000 });
    const shown = await result.getByTestId('risk-probability').innerText();
    expect(shown).toMatch(/^(\d{1,2}%|under 1%|over 99%)$/);
    await expect(result).toContainText('It is not a diagnosis');
    await expect(result.getByRole('link', { name: 'What a risk estimate means, and what it does not' })).toHaveAttribute('href', '/chat/articles/risk-estimates');
    await expect(result.getByTestId('risk-factor').first()).toBeVisible();
    // Each factor is a plain sentence whose direction is the model's; never the dataset's "thalassemia".
    await expect(result.getByTestId('risk-factor').first()).toContainText(/(raised|lowered) your estimate/);
    await expect(result).not.toContainText(/thalassemia/i);
    await expect(result.getByTestId('risk-next-step')).toContainText('What to do next');
    await expect(result.getByTestId('risk-model-version')).toContainText('Version 0 of the model for “Heart disease risk (demo)”, approved for patients on');
    await expect(result.getByTestId('risk-validation')).toContainText('No hospital has reported test results for this version yet');
    await expect(result.getByTestId('risk-unknown-note')).toContainText('“I don’t know” for: fasting blood sugar');
    await expect(result).toContainText('Your answers were not sent anywhere');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expect(page.getByTestId('check-risk')).toBeEnabled();
    // The model ran in a worker, not on the page's thread.
    expect(page.workers().length).toBeGreaterThanOrEqual(1);

    await result.scrollIntoViewIfNeeded();
    await page.screenshot({ path: testInfo.outputPath('risk-phone-result.png') });
    await result.getByTestId('risk-model-version').scrollIntoViewIfNeeded();
    await page.screenshot({ path: testInfo.outputPath('risk-phone-result-model.png') });
    await page.screenshot({ path: testInfo.outputPath('risk-phone-full.png'), fullPage: true });
    await result.screenshot({ path: testInfo.outputPath('risk-phone-result-card.png') });

    // The same estimate, computed here from the public endpoint and the approved model: the page
    // encoded the answers exactly as the sites encode records.
    const info = publicRiskModelSchema.parse(await (await fetch(`${consilium.url}/api/public/studies/heart-demo/risk-model`)).json());
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(`${consilium.url}${info.modelUrl}`);
    const x = encodeRecords(info.features, [{ id: 'me', values: ANSWERS, label: 0 }]);
    const p = tf.tidy(() => (model.predict(tf.tensor2d(x.x, [1, x.width])) as tf.Tensor).dataSync()[0]);
    model.dispose();
    const expected = p < 0.01 ? 'under 1%' : p > 0.99 ? 'over 99%' : `${Math.round(p * 100)}%`;
    expect(shown).toBe(expected);

    // The network: the page and its worker fetched the model, and nothing they sent holds an answer.
    const paths = sent.map((s) => new URL(s.url).pathname);
    expect(paths).toContain('/api/public/studies/heart-demo/risk-model');
    expect(paths).toContain('/api/studies/heart-demo/versions/approved/model.json');
    expect(paths).toContain('/api/studies/heart-demo/versions/approved/weights.bin');
    const binaryNeedles = [63, 145, 347, 171, 2.7].map((v) => ({ what: `${v} as float32`, bytes: f32(v) }));
    for (const s of sent) {
      const where = `${s.method} ${s.url}`;
      const url = new URL(s.url);
      // Fingerprinted build files are named at build time; their names cannot hold an answer.
      const urlText = url.pathname.startsWith('/assets/') ? url.search : decodeURIComponent(url.pathname + url.search);
      for (const n of NEEDLES) expect(standalone(n).test(urlText), `${n} in the URL of ${where}`).toBe(false);
      if (s.body) {
        const text = s.body.toString('utf8');
        for (const n of NEEDLES) expect(standalone(n).test(text), `${n} in the body of ${where}`).toBe(false);
        for (const b of binaryNeedles) expect(s.body.includes(b.bytes), `${b.what} in the body of ${where}`).toBe(false);
      }
    }
    for (const frame of frames) for (const n of NEEDLES) expect(standalone(n).test(frame), `${n} in a WebSocket frame: ${frame.slice(0, 200)}`).toBe(false);
    // Once the patient started answering, the page only read files: no request with a body, no API call but the model's.
    const later = sent.filter((s) => s.afterAnswers);
    for (const s of later) {
      expect(s.method, s.url).toBe('GET');
      expect(s.body, s.url).toBeNull();
      expect(new URL(s.url).pathname, s.url).toMatch(/^\/(assets\/|api\/studies\/heart-demo\/versions\/approved\/(model\.json|weights\.bin)$|api\/public\/studies\/heart-demo\/risk-model$|chat\/articles\/)/);
    }
    console.info(`risk check: ${sent.length} requests recorded (after the first answer: ${later.map((s) => new URL(s.url).pathname).join(", ") || "none"}), ${frames.length} WebSocket frames; estimate ${shown}`);
  });

  test('asking in words starts the check, "stop" ends it, and an emergency comes first', async ({ page, consilium }) => {
    await page.goto(`${consilium.url}/chat`);
    await answerTyped(page, 'Can you check my risk of heart disease?');
    await expectQuestion(page, 'age');
    await answerTyped(page, "I don't know");
    await expect(page.getByTestId('chat-reply').last()).toContainText('I need your age');
    await answerTyped(page, 'stop');
    await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'risk-stopped');
    await expect(page.getByTestId('risk-choices')).toHaveCount(0);

    // Back to the knowledge base: a question about the check itself is answered, not started.
    await answerTyped(page, 'Do my answers leave my device when I check my risk?');
    await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'answer');

    await page.getByTestId('check-risk').click();
    await expectQuestion(page, 'age');
    await answerTyped(page, 'I have crushing chest pain and can’t breathe');
    await expect(page.locator('[data-kind="emergency"]')).toBeVisible();
    await expect(page.getByTestId('chat-reply').last()).toHaveAttribute('data-kind', 'risk-stopped');
    await expect(page.getByTestId('chat-reply').last()).toContainText('so that you can get help now');
  });
});
