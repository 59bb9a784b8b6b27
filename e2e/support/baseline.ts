import { execFileSync } from 'node:child_process';

export interface Baseline {
  accuracy: number;
  loss: number;
  majorityRate: number;
  trainSamples: number;
  validationSamples: number;
}

/**
 * The centrally trained model of the same spec on the same demo data (pooled training splits, scored on
 * the pooled validation splits), computed by the shared training core on the CPU backend in Node.
 */
export function centralBaseline(): Baseline {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/central-baseline.ts', '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Baseline;
}
