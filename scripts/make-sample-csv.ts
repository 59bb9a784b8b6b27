/**
 * Writes docs/samples/heart-sample.csv: `npx tsx scripts/make-sample-csv.ts`. About 200 seeded
 * synthetic heart-risk patients in the UCI layout (`num` is the 0–4 diagnosis, `?` a missing value),
 * with a few rows a real export would have wrong, so the import has something to report.
 */
import fs from 'node:fs';
import { recordsToCsv } from '../shared/data/csv/format';
import { demoHospitals, generateHeartRecords, mulberry32 } from '../shared/synthetic';
import { heartRisk } from '../shared/tasks';

const profile = { ...demoHospitals[2], id: 'sample-clinic', name: 'Sample clinic', size: 200, seed: 0x5a4e1e, missingRate: 0.04 };
const records = generateHeartRecords(profile);
const rand = mulberry32(profile.seed);
// The UCI files grade disease 1–4; any grade above 0 is "disease present".
const text = recordsToCsv(heartRisk, records, {
  missing: '?',
  labelColumn: 'num',
  formatLabel: (label) => (label === 0 ? '0' : String(1 + Math.floor(rand() * 4))),
});

const lines = text.trimEnd().split('\n');
const header = lines[0].split(',');
const set = (line: number, column: string, value: string) => {
  const cells = lines[line - 1].split(',');
  cells[header.indexOf(column)] = value;
  lines[line - 1] = cells.join(',');
};
set(24, 'cp', '5'); // no such chest-pain code
set(57, 'age', 'sixty-two');
set(88, 'chol', '0'); // "not measured", as some registries write it: a sentinel for the import
set(131, 'chol', '0');
set(102, 'trestbps', '0');
set(150, 'num', '?'); // no diagnosis: the row cannot be used
lines[176] = lines[176].split(',').slice(0, 9).join(','); // a row cut short (line 177)

fs.mkdirSync('docs/samples', { recursive: true });
fs.writeFileSync('docs/samples/heart-sample.csv', lines.join('\n') + '\n');
console.log(`docs/samples/heart-sample.csv: ${lines.length - 1} rows`);
