import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { analyseAccepting, blobSource } from '../shared/data';
import { makeVariant, type CsvVariant } from '../shared/data/csv/variants';
import { heartRisk } from '../shared/tasks';
import { expect, test } from './support/fixtures';

/**
 * Two generated exports no name in them matches (generic X1..X14 with -9 for missing; no header,
 * tab-separated, 0 for an unmeasured cholesterol, blood pressure or heart rate), imported through the
 * page by accepting its proposals, agree with what `npm run import:check` prints for the same files.
 */
const variants: CsvVariant[] = [
  makeVariant(heartRisk, { header: 'generic-x', missing: '-9', delimiter: ';', encoding: 'utf-8-bom', seed: 11 }),
  makeVariant(heartRisk, { header: 'none', missing: '0', delimiter: '\t', encoding: 'utf-8', seed: 12 }),
];

/** `npm run import:check` on a file: its last line's numbers and the refused lines it lists. */
function importCheck(file: string) {
  const run = spawnSync('npx', ['tsx', 'scripts/import-check.ts', file, '--study', heartRisk.id, '--list', '1000'], { encoding: 'utf8' });
  const lines = run.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  const m = /^import:check: rows=(\d+) kept=(\d+) flagged=(\d+) refused=(\d+) mapped=(\d+)\/(\d+)$/.exec(last);
  if (!m) throw new Error(`import:check printed no summary line (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  const [rows, kept, flagged, refused, mapped, total] = m.slice(1).map(Number);
  const refusedLines = lines.filter((l) => /^ {2}line \d+: /.test(l) && lines.indexOf(l) > lines.findIndex((x) => x.startsWith('Refused rows:'))).map((l) => Number(/line (\d+)/.exec(l)![1]));
  return { rows, kept, flagged, refused, mapped, total, refusedLines, status: run.status };
}

async function chooseFile(page: Page, name: string, bytes: Uint8Array) {
  await page.getByTestId('csv-file-input').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(bytes) });
}

test('generated exports with generic or no headers import through the page as import:check reads them', async ({ openHospitals }, testInfo) => {
  test.setTimeout(180_000);
  const [h] = await openHospitals(1, { join: false });
  const page = h.page;
  for (const [k, v] of variants.entries()) {
    const file = path.join(testInfo.outputPath(), v.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, v.bytes);
    const cli = importCheck(file);
    expect(cli).toMatchObject({ rows: v.expected.rows, kept: v.expected.kept, refused: v.expected.refused, flagged: v.expected.flaggedLines.length, mapped: 14, total: 14, status: 0 });
    expect(cli.refusedLines).toEqual(v.expected.refusedLines);
    const node = await analyseAccepting(() => blobSource(new Blob([v.bytes]), { encoding: v.encoding }), heartRisk, { encoding: v.encoding });

    await chooseFile(page, v.name, v.bytes);
    await expect(page.getByTestId('import-review')).toBeVisible();
    // Nothing is mapped until the person accepts reading the columns in the template's order.
    await expect(page.getByTestId('import-accepted')).toHaveText('0');
    await expect(page.getByTestId('positional-proposal')).toContainText("14 columns in the template's order");
    await page.getByTestId('accept-positional').click();
    // Then the column codes: -9 or 0, three columns, four rows each.
    await expect(page.getByTestId('code-proposal')).toHaveCount(3);
    await expect(page.getByTestId('code-proposal').first()).toContainText('4 rows');
    await page.getByTestId('accept-all-codes').click();
    await expect(page.getByTestId('code-proposal')).toHaveCount(0);
    await expect(page.getByTestId('positional-proposal')).toHaveCount(0);

    await expect(page.getByTestId('import-rows')).toHaveText(String(cli.rows));
    await expect(page.getByTestId('import-accepted')).toHaveText(String(cli.kept));
    await expect(page.getByTestId('import-rejected')).toHaveText(String(cli.refused));
    await expect(page.getByTestId('import-flagged')).toHaveText(String(cli.flagged));
    const refused = page.getByTestId('row-error');
    await expect(refused).toHaveCount(cli.refused);
    expect(await refused.evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-line'))))).toEqual(cli.refusedLines);
    const flagged = page.getByTestId('flagged-row');
    await expect(flagged).toHaveCount(cli.flagged);
    expect(await flagged.evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-line'))))).toEqual(v.expected.flaggedLines);

    if (k === variants.length - 1) {
      // The page stores exactly what the shared analysis keeps.
      await page.getByTestId('import-commit').click();
      await expect(page.getByTestId('import-done')).toContainText(`Imported ${cli.kept} records from ${v.name} (${cli.refused} rows dropped)`);
      await expect(page.getByTestId('records-count')).toHaveText(String(cli.kept));
      expect(await page.getByTestId('dataset-fingerprint-short').getAttribute('data-fingerprint')).toBe(node.analysis.fingerprint);
    } else {
      await page.getByTestId('import-cancel').click();
    }
  }
});
