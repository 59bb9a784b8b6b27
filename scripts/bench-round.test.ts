import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The round bench at its smallest, as a smoke test: a real server process, five sites, one round.
 * It proves the script still drives the server end to end and ends with the line scripts read; the
 * figures themselves are measured by hand on a quiet machine (docs/benchmarks.md), never asserted.
 */
describe('npm run bench:round (smoke)', () => {
  it('runs a 5-site round of a 385-parameter study and ends with its exact summary line', () => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/bench-round.ts', '--params', '385', '--clients', '5', '--runs', '1'], {
      encoding: 'utf8',
      timeout: 150_000,
      // The embedded database, whatever the environment points tests at.
      env: { ...process.env, DATABASE_URL: '' },
    });
    const out = `${run.stdout}\n${run.stderr}`;
    expect(run.status, out.slice(-3000)).toBe(0);
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      /^bench:round params=385 clients=5 strategy=fedavg intake_per_s=\d+(\.\d+)? overhead_ms=-?\d+(\.\d+)? idle_rss_mib=\d+(\.\d+)? peak_rss_mib=\d+(\.\d+)? accumulate_vs_numpy=(\d+(\.\d+)?|na)$/,
    );
    expect(out).toMatch(/\(5\/5 accepted\)/);
  }, 180_000);
});
