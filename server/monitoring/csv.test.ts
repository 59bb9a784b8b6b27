import { describe, expect, it } from 'vitest';
import { csvField, metricsCsv } from './csv';

describe('the metrics CSV', () => {
  it('quotes only fields that need it, doubling quotes, and leaves nulls and non-finite numbers empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(0.25)).toBe('0.25');
  });

  it('writes a header row, then one row per round in the header’s order', () => {
    const csv = metricsCsv([
      { round: 1, version: 1, closedAt: '2026-01-01T00:00:00.000Z', contributors: 2, trainingSamples: 300, trainLoss: 0.5, validationLoss: null, validationAccuracy: null, validationSamples: 0, validationReports: 0 },
      { round: 2, version: 2, closedAt: '2026-01-01T00:01:00.000Z', contributors: 2, trainingSamples: 300, trainLoss: 0.4, validationLoss: 0.45, validationAccuracy: 0.8, validationSamples: 60, validationReports: 2 },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'round,version,closedAt,contributors,trainingSamples,trainLoss,validationLoss,validationAccuracy,validationSamples,validationReports',
      '1,1,2026-01-01T00:00:00.000Z,2,300,0.5,,,0,0',
      '2,2,2026-01-01T00:01:00.000Z,2,300,0.4,0.45,0.8,60,2',
      '',
    ]);
    expect(metricsCsv([])).toBe('round,version,closedAt,contributors,trainingSamples,trainLoss,validationLoss,validationAccuracy,validationSamples,validationReports\r\n');
  });
});
