/**
 * What a differentially private study spends, from the Rényi-DP accountant (shared/fl/privacy/rdp.ts):
 *
 *   npm run privacy -- --sample-rate Q --noise Z --steps T --delta D
 *     last line: privacy: epsilon=E delta=D order=A
 *   npm run privacy -- --sample-rate Q --epsilon E --steps T --delta D
 *     the smallest noise multiplier keeping ε within E; last line: privacy: noise=Z epsilon=E delta=D order=A
 *
 * `--conversion classic` reads ε off RDP the classic way instead of Balle et al. 2020's tighter one.
 */
import { parseArgs } from 'node:util';
import { noiseFor, privacySpent, type Conversion } from '../shared/fl/privacy/rdp';

function fail(message: string): never {
  console.error(`${message}\nusage: npm run privacy -- --sample-rate Q (--noise Z | --epsilon E) --steps T --delta D [--conversion balle2020|classic]`);
  process.exit(2);
}

let values: Record<string, string | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      'sample-rate': { type: 'string' },
      noise: { type: 'string' },
      epsilon: { type: 'string' },
      steps: { type: 'string' },
      delta: { type: 'string' },
      conversion: { type: 'string', default: 'balle2020' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
const number = (name: string, ok: (v: number) => boolean, what: string): number | undefined => {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !ok(v)) fail(`--${name} must be ${what}, got '${raw}'`);
  return v;
};
const q = number('sample-rate', (v) => v > 0 && v <= 1, 'in (0, 1]') ?? fail('--sample-rate is required');
const steps = number('steps', (v) => Number.isInteger(v) && v >= 1, 'a whole number ≥ 1') ?? fail('--steps is required');
const delta = number('delta', (v) => v > 0 && v < 1, 'in (0, 1)') ?? fail('--delta is required');
const noise = number('noise', (v) => v > 0, 'above 0');
const epsilon = number('epsilon', (v) => v > 0, 'above 0');
const conversion = values.conversion as Conversion;
if (conversion !== 'balle2020' && conversion !== 'classic') fail(`--conversion must be balle2020 or classic, got '${values.conversion}'`);
if ((noise === undefined) === (epsilon === undefined)) fail('give exactly one of --noise and --epsilon');

const p = (v: number) => v.toPrecision(6);
if (noise !== undefined) {
  const spent = privacySpent({ sampleRate: q, noise, steps, delta, conversion });
  console.log(`${steps} rounds, sample rate ${q}, noise multiplier ${noise}: (ε, δ) = (${p(spent.epsilon)}, ${delta}) at Rényi order ${spent.order} (${conversion} conversion)`);
  console.log(`privacy: epsilon=${p(spent.epsilon)} delta=${p(delta)} order=${p(spent.order)}`);
} else {
  const found = noiseFor({ sampleRate: q, epsilon: epsilon!, steps, delta, conversion });
  console.log(`${steps} rounds, sample rate ${q}: noise multiplier ${found.noise.toPrecision(4)} keeps ε within ${epsilon} (spends ${p(found.epsilon)}) at Rényi order ${found.order}`);
  console.log(`privacy: noise=${p(found.noise)} epsilon=${p(found.epsilon)} delta=${p(delta)} order=${p(found.order)}`);
}
