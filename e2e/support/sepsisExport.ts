import fs from 'node:fs';
import path from 'node:path';
import { mulberry32, normal } from '../../shared/synthetic/rng';

/*
 * A consortium's own question for the custom-study e2e: sepsis within 48 h of admission, from a data
 * dictionary written as a consortium would, and each hospital's export in that layout, but each in its
 * own dialect (words or codes, a missing-value mark, column order). Seeded: the same files every run.
 */

/** The README's example (docs/samples/sepsis-dictionary.csv): what a consortium writes in a spreadsheet. */
export const SEPSIS_DICTIONARY = fs.readFileSync(path.resolve('docs/samples/sepsis-dictionary.csv'), 'utf8');

export interface SepsisExportOptions {
  seed: number;
  rows: number;
  /** Fever and the label as words (yes/no, sepsis/no sepsis) instead of 0/1. */
  words?: boolean;
  /** Shifts the case mix: older, more ICU admissions. */
  severity?: number;
}

/** One hospital's export: a header row in its own column order, an mrn column, `NA` for a missing lactate now and then. */
export function sepsisExport({ seed, rows, words = false, severity = 0 }: SepsisExportOptions): string {
  const rand = mulberry32(seed);
  const gauss = normal(rand);
  const lines = [words ? 'mrn,sepsis,age,ward,fever,lactate,resp_rate' : 'mrn,age,lactate,resp_rate,fever,ward,sepsis'];
  for (let i = 0; i < rows; i++) {
    const age = Math.round(Math.min(98, Math.max(18, 62 + 8 * severity + 15 * gauss())));
    const ward = rand() < 0.2 + 0.2 * severity ? 1 : rand() < 0.6 ? 2 : 3;
    const fever = rand() < 0.3 ? 1 : 0;
    const risk = -1.2 + 0.03 * (age - 62) + 1.6 * fever + (ward === 1 ? 1.0 : ward === 3 ? -0.4 : 0) + 0.5 * gauss();
    const sepsis = rand() < 1 / (1 + Math.exp(-2 * risk)) ? 1 : 0;
    const lactate = Math.max(0.5, Math.min(12, 1.4 + 1.8 * sepsis + 0.6 * fever + 0.7 * gauss()));
    const resp = Math.round(Math.max(8, Math.min(45, 17 + 5 * sepsis + 3 * gauss())));
    const lact = rand() < 0.05 ? 'NA' : lactate.toFixed(1);
    const mrn = `MRN${String(seed).slice(-3)}${String(i).padStart(5, '0')}`;
    const f = words ? (fever ? 'yes' : 'no') : String(fever);
    const s = words ? (sepsis ? 'sepsis' : 'no sepsis') : String(sepsis);
    lines.push(words ? [mrn, s, age, ward, f, lact, resp].join(',') : [mrn, age, lact, resp, f, ward, s].join(','));
  }
  return lines.join('\n') + '\n';
}
