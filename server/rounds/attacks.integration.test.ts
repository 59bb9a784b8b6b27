import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartRisk } from '../../shared/tasks';
import type { Database } from '../db/client';
import { attackLine, attackOutcome } from '../testing/attacks';
import { testDatabaseTargets } from '../testing/databases';
import { signIn, startServer, type RunningServer } from '../testing/harness';
import { attackKinds } from '../testing/simulatedHospital';
import { runSimulation, type SimulationOptions, type SimulationResult } from '../testing/simulation';

/**
 * One hostile hospital of five (the first, the largest) on a study's defaults, seed 1 of each attack
 * of `npm run simulate -- --attack KIND`; seeds 2 and 3 run in `npm run bench:attacks`. The defaults
 * (adaptive clipping, capped weights, bounded and compared evaluation reports) hold the honest
 * sites' accuracy within 3 points of the clean run's, and a forger's reports out of the pooled figure.
 */
const SEED = 1;
const base: SimulationOptions = { templateId: heartRisk.id, hospitals: 5, rounds: 5, seed: SEED };
const pglite = testDatabaseTargets().find((t) => t.name === 'pglite')!;

describe('attacks on a study with default settings (heart-risk, 1 of 5 hospitals hostile, seed 1)', () => {
  let database: Database;
  let server: RunningServer;
  let clean: SimulationResult;

  beforeAll(async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
    database = await pglite.open();
    server = await startServer(database);
    clean = await runSimulation(server, database, { ...base, studyId: 'attack-clean' });
  });

  afterAll(async () => {
    await server?.stop();
    await pglite.dispose(database);
  });

  it.each(attackKinds)('holds the %s attack', async (kind) => {
    const attacked = await runSimulation(server, database, { ...base, attack: kind, studyId: `attack-${kind}` });
    const o = attackOutcome(kind, SEED, clean, attacked);
    console.log(attackLine(o));
    expect(o.cleanAccuracy).toBeGreaterThan(0.75);
    expect(o.cleanAccuracy - o.finalAccuracy).toBeLessThanOrEqual(0.03);
    if (kind === 'report') {
      expect(Math.abs(o.reportedAccuracy - o.cleanAccuracy)).toBeLessThanOrEqual(0.03);
      // The forger's reports sit beside the pooled figure, flagged, not in it.
      const res = await fetch(`${server.url}/api/studies/attack-report/versions/${attacked.rounds.at(-1)!.version}/evaluation`, { headers: await adminHeaders() });
      const ev = (await res.json()) as { sites: { participantId: string; flag: string | null; pooled: boolean }[] };
      expect(ev.sites.filter((s) => !s.pooled)).toHaveLength(1);
      expect(ev.sites.find((s) => !s.pooled)!.flag).toMatch(/deviations from the other sites' figures/);
    }
  });

  async function adminHeaders(): Promise<Record<string, string>> {
    const { userId: _, ...headers } = await signIn(server);
    return headers;
  }
});
