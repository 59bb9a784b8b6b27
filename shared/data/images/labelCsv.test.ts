import { describe, expect, it } from 'vitest';
import { lesionImages } from '../../tasks';
import { LabelCsvError, matchLabelCsv, parseLabelCsv } from './labelCsv';

describe('a label CSV', () => {
  it('finds the file and label columns by their names, in any order and with a BOM', () => {
    const csv = parseLabelCsv('\uFEFFpatient;Diagnosis;Filename\r\n17;positive;scan-1.png\r\n18;negative;scan-2.png\r\n', lesionImages);
    expect(csv).toMatchObject({ header: true, fileColumn: 2, labelColumn: 1 });
    expect(csv.columns).toEqual(['patient', 'Diagnosis', 'Filename']);
    expect(csv.rows).toEqual([
      { line: 2, file: 'scan-1.png', value: 'positive' },
      { line: 3, file: 'scan-2.png', value: 'negative' },
    ]);
  });

  it('reads a file without a header by which column holds image names', () => {
    const csv = parseLabelCsv('1,a.png\n0,b.jpg\n\n1,c.png\n', lesionImages);
    expect(csv).toMatchObject({ header: false, fileColumn: 1, labelColumn: 0 });
    expect(csv.rows.map((r) => [r.line, r.file, r.value])).toEqual([
      [1, 'a.png', '1'],
      [2, 'b.jpg', '0'],
      [4, 'c.png', '1'],
    ]);
  });

  it('takes an unknown header for a header when the rows below name images', () => {
    const csv = parseLabelCsv('img_ref,dx\na.png,lesion\n', lesionImages);
    expect(csv).toMatchObject({ header: true, fileColumn: 0, labelColumn: 1 });
    expect(csv.rows).toHaveLength(1);
  });

  it('reports rows without a file name or label by line, and refuses a file with one column', () => {
    const csv = parseLabelCsv('file,label\na.png,\n,1\nb.png,0\n', lesionImages);
    expect(csv.problems).toEqual([
      { line: 2, message: 'no label for a.png' },
      { line: 3, message: 'no file name' },
    ]);
    expect(() => parseLabelCsv('a.png\nb.png\n', lesionImages)).toThrow(LabelCsvError);
    expect(() => parseLabelCsv('\n\n', lesionImages)).toThrow(/empty/);
  });

  it('matches rows to chosen images by path or by a unique name, without regard to case', () => {
    const paths = ['scans/pos/A.png', 'scans/neg/b.png', 'scans/x/c.png', 'scans/y/c.png'];
    const match = matchLabelCsv(
      {
        rows: [
          { line: 2, file: 'a.png', value: '1' },
          { line: 3, file: 'neg/b.png', value: '0' },
          { line: 4, file: 'c.png', value: '1' },
          { line: 5, file: 'y/c.png', value: '0' },
          { line: 6, file: 'missing.png', value: '1' },
          { line: 7, file: 'scans/pos/a.png', value: '0' },
          { line: 8, file: 'os/a.png', value: '1' },
        ],
      },
      paths,
    );
    expect(match.values).toEqual(['1', '0', null, '0']);
    expect(match.ambiguous).toEqual([{ line: 4, file: 'c.png' }]);
    // "os/a.png" is not a folder boundary inside "scans/pos/A.png".
    expect(match.unmatched).toEqual([
      { line: 6, file: 'missing.png' },
      { line: 8, file: 'os/a.png' },
    ]);
    expect(match.conflicts).toEqual([{ line: 7, file: 'scans/pos/a.png' }]);
  });
});
