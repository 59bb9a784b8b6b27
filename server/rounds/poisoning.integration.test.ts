import * as tf from '@tensorflow/tfjs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationReport } from '../../shared/fl/report';
import type { StrategyConfigInput } from '../../shared/fl/registry';
import { majorityRate } from '../../shared/metrics/binary';
import { syntheticSites } from '../../shared/synthetic/cohort';
import { heartRisk } from '../../shared/tasks';
import { concat, hospitalSplit } from '../../shared/training';
import type { Database } from '../db/client';
import { rounds } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { startServer, type RunningServer } from '../testing/harness';
import { runSimulation, type SimulationOptions, type SimulationResult } from '../testing/simulation';

/**
 * 1 of 5 hospitals sends its delta sign-flipped and scaled ×10 every round (the first site, the
 * largest: the strongest attack on a sample-weighted mean). Real server, real rounds, in-process
 * hospitals training with the shared TF.js core on the heart-risk template's defaults.
 */
const HOSPITALS = 5;
const ROUNDS = 5;
const POISON = { count: 1, scale: 10 };
/** The rules compared here alone: no clipping, no weight cap (the defaults' own defence is tested last). */
const UNGUARDED: SimulationOptions['config'] = { clipping: { mode: 'none' }, weightCapFactor: null };

const pglite = testDatabaseTargets().find((t) => t.name === 'pglite')!;

describe('a poisoned federation (1 of 5 hospitals sends −10 × its delta every round)', () => {
  let database: Database;
  let server: RunningServer;
  const runs = new Map<string, SimulationResult>();

  beforeAll(async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
    database = await pglite.open();
    server = await startServer(database);
  });

  afterAll(async () => {
    await server?.stop();
    await pglite.dispose(database);
    const rows = [...runs.entries()].map(([name, r]) => `${name.padEnd(22)} ${r.rounds.map((m) => `${(100 * m.accuracy).toFixed(1)}`.padStart(5)).join(' ')}`);
    console.log(
      `pooled validation accuracy (%) by round 0..${ROUNDS}, heart-risk, ${HOSPITALS} hospitals (majority class ${(100 * pooledMajority()).toFixed(1)} %):\n${rows.join('\n')}`,
    );
  });

  async function run(label: string, strategy: StrategyConfigInput, poisoned: boolean, config: SimulationOptions['config'] = UNGUARDED): Promise<number> {
    const result = await runSimulation(server, database, {
      templateId: heartRisk.id,
      hospitals: HOSPITALS,
      rounds: ROUNDS,
      strategy,
      config,
      poison: poisoned ? POISON : undefined,
      studyId: `poison-${label}`,
    });
    runs.set(`${label.replace(/-(clean|poisoned)$/, '')}${poisoned ? ' poisoned' : ' clean'}`, result);
    expect(result.rounds.map((m) => m.round)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.rounds.slice(1).every((m) => m.contributors === HOSPITALS && m.reports === HOSPITALS)).toBe(true);
    return result.rounds.at(-1)!.accuracy;
  }

  /** The clean FedAvg run's final accuracy: the yardstick (run once, by whichever test needs it first). */
  let clean: Promise<number> | null = null;
  const cleanAccuracy = () => (clean ??= run('fedavg-clean', { name: 'fedavg' }, false));

  it('learns without the attacker: clean FedAvg beats the majority class clearly', async () => {
    expect(await cleanAccuracy()).toBeGreaterThan(pooledMajority() + 0.15);
  });

  it('collapses under FedAvg with clipping and the weight cap turned off: below the majority class, far below the clean run', async () => {
    const poisoned = await run('fedavg-poisoned', { name: 'fedavg' }, true);
    expect(poisoned).toBeLessThan((await cleanAccuracy()) - 0.3);
    expect(poisoned).toBeLessThan(pooledMajority());
  });

  it("stays within 3 points of clean FedAvg under FedAvg on the study's defaults (adaptive clipping, capped weights)", async () => {
    const accuracy = await run('fedavg-defaults-poisoned', { name: 'fedavg' }, true, {});
    expect(Math.abs(accuracy - (await cleanAccuracy()))).toBeLessThanOrEqual(0.03);
  });

  it.each<[string, StrategyConfigInput]>([
    ['median', { name: 'median' }],
    ['trimmed-mean', { name: 'trimmed-mean', options: { trimFraction: 0.2 } }],
    ['krum', { name: 'krum', options: { byzantine: 1 } }],
  ])('stays within 3 points of clean FedAvg under %s', async (label, strategy) => {
    const accuracy = await run(`${label}-poisoned`, strategy, true);
    expect(Math.abs(accuracy - (await cleanAccuracy()))).toBeLessThanOrEqual(0.03);
    if (label === 'krum') {
      // The admins see why: Krum never selected the attacker's update.
      const reports = await database.db.select({ report: rounds.aggregationReport }).from(rounds).where(eq(rounds.studyId, 'poison-krum-poisoned'));
      const attacker = runs.get('krum poisoned')!.sites.find((s) => s.poisoned)!.id;
      for (const { report } of reports) {
        const entry = (report as AggregationReport).updates.find((u) => u.participantId === attacker)!;
        expect(entry.selected).toBe(false);
      }
    }
  });
});

/** Accuracy of always answering the commoner label on the pooled validation splits. */
function pooledMajority(): number {
  const validation = concat(
    syntheticSites(heartRisk.id, HOSPITALS, heartRisk.defaults.seed).map((s) => {
      if (s.kind !== 'tabular') throw new Error('heart-risk sites hold records');
      return hospitalSplit(heartRisk, s.id, s.records).validation;
    }),
  );
  return majorityRate(validation.y);
}
