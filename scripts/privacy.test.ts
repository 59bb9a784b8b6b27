import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => execFileSync('npx', ['tsx', 'scripts/privacy.ts', ...args], { encoding: 'utf8' }).trim().split('\n').at(-1);

describe('npm run privacy', () => {
  it('prints the epsilon a mechanism spends, then the noise a target epsilon needs, each on its exact last line', () => {
    expect(run('--sample-rate', '0.1', '--noise', '1.0', '--steps', '100', '--delta', '1e-5')).toMatch(/^privacy: epsilon=7\.\d{5} delta=0\.0000100000 order=\d+\.\d+$/);
    const line = run('--sample-rate', '0.01', '--epsilon', '2', '--steps', '1000', '--delta', '1e-5')!;
    expect(line).toMatch(/^privacy: noise=1\.0\d{4} epsilon=1\.99\d{3} delta=0\.0000100000 order=\d+\.\d+$/);
  }, 60_000);
});
