/**
 * Throughput and memory of the CSV import pipeline in Node: `npm run bench:import [rows]`.
 * Generates a heart-risk CSV (default 200,000 rows, `?` for missing values and a bad row every
 * thousand), then reads it as the browser worker does: a Blob, sliced and decoded 1 MiB at a time,
 * parsed by Papa Parse, checked, summarised, fingerprinted and handed on in batches of 5,000 records
 * (which are dropped here, where the worker writes them to IndexedDB). Peak heap is sampled after
 * every chunk and batch, above the heap measured before the import.
 */
import { analyseCsv, blobSource, recordsToCsv } from '../shared/data';
import { demoHospitals, generateHeartRecords } from '../shared/synthetic';
import { heartRisk } from '../shared/tasks';

const rows = Number(process.argv[2] ?? 200_000);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const gc = (globalThis as { gc?: () => void }).gc;

function makeCsv(n: number): Blob {
  // Built in slices so the generator's records never all live at once.
  const parts: string[] = [];
  const slice = 20_000;
  for (let start = 0; start < n; start += slice) {
    const size = Math.min(slice, n - start);
    const records = generateHeartRecords({ ...demoHospitals[start % 3], size, seed: 1000 + start });
    let text = recordsToCsv(heartRisk, records, { missing: '?', header: start === 0 });
    if (start > 0 || n > 1000) {
      const lines = text.split('\n');
      for (let i = 500; i < lines.length - 1; i += 1000) lines[i] = lines[i].replace(/^\d+,/, 'unknown,');
      text = lines.join('\n');
    }
    parts.push(text);
  }
  return new Blob(parts, { type: 'text/csv' });
}

const blob = makeCsv(rows);
gc?.();
const baseline = process.memoryUsage().heapUsed;
let peak = baseline;
const sample = () => {
  const h = process.memoryUsage().heapUsed;
  if (h > peak) peak = h;
};

let stored = 0;
const t0 = performance.now();
const analysis = await analyseCsv(blobSource(blob), heartRisk, {}, {
  onProgress: sample,
  onRecords: (batch) => {
    stored += batch.n;
    sample();
  },
});
const seconds = (performance.now() - t0) / 1000;
sample();

console.log(`CSV import benchmark (Node ${process.version}${gc ? ', --expose-gc' : ''})`);
console.log(`  file:        ${analysis.rows.data.toLocaleString('en')} data rows, ${mb(blob.size)}`);
console.log(`  accepted:    ${analysis.rows.accepted.toLocaleString('en')} (batches handed on: ${stored.toLocaleString('en')} records), rejected ${analysis.rows.rejected.toLocaleString('en')}`);
console.log(`  time:        ${seconds.toFixed(2)} s`);
console.log(`  throughput:  ${Math.round(analysis.rows.data / seconds).toLocaleString('en')} rows/s, ${mb(blob.size / seconds)}/s`);
console.log(`  peak heap:   ${mb(peak)} (${mb(peak - baseline)} above the ${mb(baseline)} before the import)`);
console.log(`  fingerprint: ${analysis.fingerprint}`);

// Heap used counts garbage not yet collected; a second, untimed pass collects before each sample to
// show what the import really holds on to.
if (gc) {
  gc();
  const base = process.memoryUsage().heapUsed;
  let live = base;
  await analyseCsv(blobSource(blob), heartRisk, {}, {
    onRecords: () => {
      gc();
      live = Math.max(live, process.memoryUsage().heapUsed);
    },
  });
  console.log(`  live heap:   ${mb(live - base)} at most, held by the import between batches (garbage collected before each sample)`);
}
if (analysis.rows.accepted + analysis.rows.rejected !== rows || stored !== analysis.rows.accepted) {
  console.error('row counts do not add up');
  process.exit(1);
}
