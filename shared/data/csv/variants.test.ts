import { describe, expect, it } from 'vitest';
import { hcvStage, heartRisk } from '../../tasks';
import { analyseAccepting, checkCounts, formatReview } from './check';
import { analyseCsv } from './importer';
import { blobSource } from './text';
import { makeVariant, variantSpecs } from './variants';

describe('import of export variants: every column mapped after accepting the proposals, plausible rows kept, impossible ones refused', () => {
  for (const template of [heartRisk, hcvStage]) {
    for (const spec of variantSpecs()) {
      const v = makeVariant(template, spec);
      it(v.name, async () => {
        const blob = new Blob([v.bytes]);
        const source = () => blobSource(blob, { encoding: v.encoding, chunkBytes: 4096 });
        const { analysis } = await analyseAccepting(source, template, { encoding: v.encoding });
        const counts = checkCounts(template, analysis);
        expect(counts.mapped).toBe(template.features.length + 1);
        expect(analysis.rows.data).toBe(v.expected.rows);
        expect(analysis.rows.accepted).toBe(v.expected.kept);
        expect(analysis.rows.rejected).toBe(v.expected.refused);
        expect(analysis.errors.map((e) => e.line)).toEqual(v.expected.refusedLines);
        for (const e of analysis.errors) expect(['out-of-range', 'unknown-category', 'invalid-binary']).toContain(e.problems[0].kind);
        expect(analysis.flags.listed.map((f) => f.line)).toEqual(v.expected.flaggedLines);
        expect(analysis.proposals).toEqual({ positional: null, missingCodes: [] });
        expect(analysis.canImport).toBe(true);
        // The codes became missing values: every one is counted as missing in the kept rows' statistics.
        const missing = analysis.stats.features.reduce((n, f) => n + f.missing, 0);
        expect(missing).toBeGreaterThanOrEqual(v.expected.missingCells - v.expected.refused);
        expect(missing).toBeLessThanOrEqual(v.expected.missingCells);
      });
    }
  }

  it('proposes instead of applying: a generic header maps nothing until the positional proposal is accepted', async () => {
    const v = makeVariant(heartRisk, { header: 'generic-x', missing: '-9', delimiter: ',', encoding: 'utf-8', seed: 7 });
    const first = await analyseCsv(blobSource(new Blob([v.bytes])), heartRisk);
    expect(first.rows.accepted).toBe(0);
    expect(first.issues).toContainEqual(expect.objectContaining({ kind: 'no-label' }));
    expect(first.proposals.positional?.reason).toMatch(/^14 columns in the template's order \(13 features, then the label\): every column's values fit its feature's range/);
    const mapped = await analyseCsv(blobSource(new Blob([v.bytes])), heartRisk, { mapping: first.proposals.positional!.mapping });
    expect(mapped.proposals.missingCodes).toHaveLength(3);
    for (const c of mapped.proposals.missingCodes) expect(c).toMatchObject({ code: '-9', number: -9, count: 4 });
    expect(mapped.rows.rejected).toBe(v.expected.refused + 12);
  });

  it('never proposes the template order when the values do not fit it, and says what did not fit', async () => {
    const v = makeVariant(heartRisk, { header: 'generic-v', missing: '?', delimiter: ',', encoding: 'utf-8', seed: 8 });
    // Swap age and chol: ages are not plausible cholesterols.
    const text = new TextDecoder()
      .decode(v.bytes)
      .split('\r\n')
      .map((l) => {
        const c = l.split(',');
        if (c.length < 5) return l;
        [c[0], c[4]] = [c[4], c[0]];
        return c.join(',');
      })
      .join('\r\n');
    const a = await analyseCsv(blobSource(new Blob([text])), heartRisk);
    expect(a.proposals.positional).toBeNull();
    const misfit = a.issues.find((i) => i.kind === 'positional-misfit');
    expect(misfit?.message).toMatch(/column 1 \("V5"\) as Age: \d+ of \d+ values outside the plausible 18–100 years/);
    expect(misfit?.message).toMatch(/column 5 \("V1"\) as Serum cholesterol/);
  });

  it('keeps a real cholesterol of 603 or 85 (flagged) and refuses an impossible one, naming line and column', async () => {
    const text = 'age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,target\n63,1,1,145,603,1,2,150,0,2.3,3,0,6,0\n63,1,1,145,85,1,2,150,0,2.3,3,0,6,0\n63,1,1,145,2000,1,2,150,0,2.3,3,0,6,0\n';
    const a = await analyseCsv(blobSource(new Blob([text])), heartRisk);
    expect(a.rows).toMatchObject({ accepted: 2, rejected: 1 });
    expect(a.flags.rows).toBe(2);
    expect(a.flags.byFeature).toEqual({ chol: 2 });
    expect(a.flags.listed[0]).toMatchObject({ line: 2, flags: [{ column: 'chol', value: 603, message: expect.stringContaining('plausible 100–600 mg/dl') }] });
    expect(a.errors).toEqual([{ line: 4, problems: [expect.objectContaining({ kind: 'out-of-range', column: 'chol', message: expect.stringContaining('impossible') })] }]);
  });

  it('does not propose a conventional code that is a plausible value, nor one seen once', async () => {
    const row = (age: string, chol: string) => `${age},1,1,145,${chol},1,2,150,0,2.3,3,0,6,0`;
    const HEADER = 'age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,target';
    const text = [HEADER, row('99', '233'), row('99', '233'), row('60', '-99'), row('60', '0')].join('\n');
    const a = await analyseCsv(blobSource(new Blob([text])), heartRisk);
    // 99 is a real age; -99 once is an error, not a code; 0 cholesterol is "not measured" however often.
    expect(a.proposals.missingCodes.map((c) => [c.feature, c.code])).toEqual([['chol', '0']]);
    // A placeholder is a code at once; a word only when it repeats, and a number in words never.
    const words = [HEADER, row('sixty-two', '233'), row('60', '-'), row('60', 'unknown'), row('60', 'unknown'), row('60', 'missing')].join('\n');
    const w = await analyseCsv(blobSource(new Blob([words])), heartRisk);
    expect(w.proposals.missingCodes.map((c) => [c.feature, c.code, c.count])).toEqual([
      ['chol', 'unknown', 2],
      ['chol', '-', 1],
    ]);
  });

  it('prints the review with its summary line, the same numbers the analysis has', async () => {
    const v = makeVariant(hcvStage, { header: 'generic-v', missing: '0', delimiter: ',', encoding: 'utf-8', seed: 3 });
    const result = await analyseAccepting(() => blobSource(new Blob([v.bytes])), hcvStage);
    const text = formatReview(hcvStage, result);
    const last = text.split('\n').at(-1);
    expect(last).toBe(`import:check: rows=300 kept=296 flagged=${v.expected.flaggedLines.length} refused=4 mapped=13/13`);
    expect(text).toContain("mapping: read the columns in the template's order: 13 columns in the template's order");
    for (const line of v.expected.refusedLines) expect(text).toMatch(new RegExp(`^  line ${line}: `, 'm'));
  });
});
