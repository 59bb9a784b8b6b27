import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const jsonOutput = process.env.VITEST_JSON_OUTPUT;

/**
 * The files that take longest (each restarts real servers or runs whole studies), longest first. A
 * clean clone has no timings cached, so vitest would start them wherever the glob puts them, and
 * the longest (over three minutes) ran last and alone on one core: started first, the other files
 * fill the second core beside them. Measured on CI (docs: the issue 21/22 note).
 */
const SLOW_FIRST = [
  'server/rounds/crash.integration.test.ts',
  'server/auth/signInOutput.integration.test.ts',
  'server/rounds/rounds.integration.test.ts',
  'scripts/bench-round.test.ts',
  'server/secagg/secure.integration.test.ts',
  'server/cluster/cluster.integration.test.ts',
  'server/rounds/poisoning.integration.test.ts',
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((p) => f.moduleId.replaceAll('\\', '/').endsWith(p));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Array sort is stable: the rest keep vitest's own order (cached timings when it has them).
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'web/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // PGlite costs seconds to open and tfjs is CPU-bound: two forks match CI's two cores.
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
    reporters: jsonOutput ? ['default', 'json'] : ['default'],
    outputFile: jsonOutput ? { json: jsonOutput } : undefined,
  },
});
