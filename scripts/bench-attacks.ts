/**
 * The five attacks of `npm run simulate -- --attack KIND` on the defaults, each against the clean
 * run of its seed, for several seeds (one server, one embedded database, one clean run per seed):
 *
 *   npm run bench:attacks [-- --study heart-risk] [--hospitals 5] [--rounds 5] [--seeds 1,2,3] [--kinds scale,flip]
 *
 * One line per attack and seed, as `simulate` prints it, then the last line:
 * `bench:attacks study=S seeds=… held=H/N worst_drop=D worst_report_gap=G` (D: the largest clean − attacked
 * honest accuracy; G: the largest |reported − clean| under forged reports). CI runs seed 1 of each
 * (server/rounds/attacks.integration.test.ts); this runs the rest.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { cohortTemplates } from '../shared/synthetic/cohort';
import { openDatabase } from '../server/db/client';
import { closeAggregationWorker } from '../server/rounds/runInWorker';
import { attackHeld, attackLine, attackOutcome, type AttackOutcome } from '../server/testing/attacks';
import { startServer } from '../server/testing/harness';
import { attackKinds, type AttackKind } from '../server/testing/simulatedHospital';
import { runSimulation, type SimulationOptions } from '../server/testing/simulation';

const { values } = parseArgs({
  options: {
    study: { type: 'string', default: 'heart-risk' },
    hospitals: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    seeds: { type: 'string', default: '1,2,3' },
    kinds: { type: 'string', default: attackKinds.join(',') },
  },
});
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};
if (!(cohortTemplates as readonly string[]).includes(values.study)) fail(`--study must be one of ${cohortTemplates.join(', ')}`);
const hospitals = Number(values.hospitals);
const rounds = Number(values.rounds);
if (!Number.isInteger(hospitals) || hospitals < 3) fail('--hospitals must be a whole number ≥ 3');
if (!Number.isInteger(rounds) || rounds < 1) fail('--rounds must be a whole number ≥ 1');
const seeds = values.seeds.split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) fail('--seeds must be whole numbers, comma-separated');
const kinds = values.kinds.split(',') as AttackKind[];
for (const k of kinds) if (!attackKinds.includes(k)) fail(`unknown attack '${k}': one of ${attackKinds.join(', ')}`);

tf.enableProdMode();
await tf.setBackend('cpu');
const database = await openDatabase({});
const server = await startServer(database);
const outcomes: AttackOutcome[] = [];
const started = performance.now();
try {
  for (const seed of seeds) {
    const base: SimulationOptions = { templateId: values.study, hospitals, rounds, seed };
    const clean = await runSimulation(server, database, { ...base, studyId: `bench-clean-${seed}` });
    for (const kind of kinds) {
      const attacked = await runSimulation(server, database, { ...base, attack: kind, studyId: `bench-${kind}-${seed}` });
      const o = attackOutcome(kind, seed, clean, attacked);
      outcomes.push(o);
      console.log(`${attackLine(o)}${attackHeld(o) ? '' : '   NOT HELD'}`);
    }
  }
} finally {
  await server.stop();
  await closeAggregationWorker();
  await database.close();
}
const drop = Math.max(...outcomes.map((o) => o.cleanAccuracy - o.finalAccuracy));
const gap = Math.max(0, ...outcomes.filter((o) => o.kind === 'report').map((o) => Math.abs(o.reportedAccuracy - o.cleanAccuracy)));
console.log(`${values.study}, ${hospitals} hospitals, ${rounds} rounds, fedavg on the template's defaults: ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(
  `bench:attacks study=${values.study} seeds=${seeds.join(',')} held=${outcomes.filter(attackHeld).length}/${outcomes.length} worst_drop=${drop.toFixed(4)} worst_report_gap=${gap.toFixed(4)}`,
);
