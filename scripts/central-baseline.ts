/**
 * Central baseline versus a simulated federation on the demo hospitals' synthetic data:
 * `npx tsx scripts/central-baseline.ts [epochs] [--template heart-risk|hcv-stage|lesion-images] [--json]`.
 * Both are scored on the pooled validation splits.
 */
import * as tf from '@tensorflow/tfjs';
import { demoHospitals, deriveSeed, generateHeartRecords, heartRiskProbability, type HeartFindings } from '../shared/synthetic';
import { getTemplate, heartRisk, modelInputShape, parameterCount, templates, type TaskTemplate } from '../shared/tasks';
import { centralBaseline, DEMO_ROUNDS, simulateFederated, splitTrainValidation, type BaselineResult } from '../shared/training';

tf.enableProdMode(); // also silences tfjs's "install the node backend" notice
await tf.setBackend('cpu');

const args = process.argv.slice(2);
const asJson = args.includes('--json');
let templateId = heartRisk.id;
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--template') templateId = args[++i] ?? '';
  else if (args[i].startsWith('--template=')) templateId = args[i].slice('--template='.length);
  else if (!args[i].startsWith('--')) positional.push(args[i]);
}
const template = getTemplate(templateId);
if (!template) {
  console.error(`unknown template '${templateId}': one of ${Object.keys(templates).join(', ')}`);
  process.exit(2);
}
const epochs = positional[0] ? Number(positional[0]) : undefined;

// `--json`: the central figures alone, for the e2e suite to hold the federation to.
if (asJson) {
  console.log(JSON.stringify(await centralBaseline({ template, epochs })));
  process.exit(0);
}
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const pts = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} points`;

if (template.id !== heartRisk.id) {
  await otherTemplate(template);
  process.exit(0);
}

/** Accuracy of the generator's own risk function on the same validation rows: the Bayes ceiling. */
function oracleAccuracy(): number {
  let correct = 0;
  let total = 0;
  for (const h of demoHospitals) {
    // Without missing values: same random stream, so the same records and labels, complete.
    const records = generateHeartRecords({ ...h, missingRate: 0 });
    const { validationFraction, seed } = heartRisk.defaults;
    const { validation } = splitTrainValidation(records.map((r) => r.label), validationFraction, deriveSeed(seed, h.id));
    for (const i of validation) {
      const predicted = heartRiskProbability(records[i].values as unknown as HeartFindings) > 0.5 ? 1 : 0;
      if (predicted === records[i].label) correct++;
      total++;
    }
  }
  return correct / total;
}

const started = performance.now();
const central = await centralBaseline({ epochs });
const federated = await simulateFederated();
const seconds = ((performance.now() - started) / 1000).toFixed(1);

const { localEpochs, batchSize, learningRate } = heartRisk.defaults;
console.log(`Heart-risk demo data: ${central.trainSamples} training and ${central.validationSamples} validation records`);
console.log(`majority-class rate      ${pct(central.majorityRate)}`);
console.log(
  `central model            ${pct(central.accuracy)}  (${pts(central.accuracy - central.majorityRate)} over majority, loss ${central.loss.toFixed(4)}, ${epochs ?? DEMO_ROUNDS * localEpochs} epochs)`,
);
console.log(
  `federated (FedAvg)       ${pct(federated.accuracy)}  (${pts(federated.accuracy - federated.majorityRate)} over majority, ${pts(federated.accuracy - central.accuracy)} against central, loss ${federated.loss.toFixed(4)})`,
);
console.log(`  by round               ${federated.accuracyByRound.map(pct).join(', ')}  (${DEMO_ROUNDS} rounds × ${localEpochs} local epochs, batch ${batchSize}, lr ${learningRate})`);
console.log(`clinical risk function   ${pct(oracleAccuracy())}  (the generator's own, on the same rows: the ceiling)`);
console.log(`(${seconds} s on the ${tf.getBackend()} backend)`);

/** The figures of the hcv-stage and lesion-images templates: per-class ones, and CPU time per epoch. */
async function otherTemplate(t: TaskTemplate): Promise<void> {
  const { localEpochs, batchSize, learningRate } = t.defaults;
  const classes = t.label.classes ?? [t.label.negative, t.label.positive];
  const epochSeconds: number[] = [];
  const started = performance.now();
  const central = await centralBaseline({ template: t, epochs, onEpochEnd: (_e, _l, s) => epochSeconds.push(s) });
  const centralSeconds = (performance.now() - started) / 1000;
  const federated = await simulateFederated({ template: t });
  const kind = t.image ? `${t.image.height}×${t.image.width}×${t.image.channels} scans` : 'records';
  console.log(`${t.name} (${t.id}) demo data: ${central.trainSamples} training and ${central.validationSamples} validation ${kind}`);
  console.log(`model                    [${modelInputShape(t.model)}] → ${t.model.layers.map((l) => l.type).join(' → ')}, ${parameterCount(t.model)} parameters`);
  console.log(`majority-class rate      ${pct(central.majorityRate)}`);
  const ran = epochs ?? DEMO_ROUNDS * localEpochs;
  console.log(
    `central model            ${pct(central.accuracy)}  (${pts(central.accuracy - central.majorityRate)} over majority, loss ${central.loss.toFixed(4)}, ${ran} epochs, batch ${batchSize}, lr ${learningRate})`,
  );
  printClasses(central, classes);
  console.log(
    `federated (FedAvg)       ${pct(federated.accuracy)}  (${pts(federated.accuracy - federated.majorityRate)} over majority, ${pts(federated.accuracy - central.accuracy)} against central, loss ${federated.loss.toFixed(4)})`,
  );
  console.log(`  by round               ${federated.accuracyByRound.map(pct).join(', ')}  (${DEMO_ROUNDS} rounds × ${localEpochs} local epochs)`);
  printClasses(federated, classes);
  const mean = epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length;
  console.log(
    `central training         ${centralSeconds.toFixed(1)} s on the ${tf.getBackend()} backend: ${mean.toFixed(2)} s per epoch of ${central.trainSamples} (${epochSeconds.map((v) => v.toFixed(2)).join(', ')})`,
  );
}

function printClasses(r: BaselineResult, classes: readonly string[]): void {
  if (!r.perClassRecall || r.macroF1 === undefined || !r.confusionMatrix) return;
  console.log(`  macro-F1               ${r.macroF1.toFixed(3)}`);
  console.log(`  recall by class        ${r.perClassRecall.map((v, k) => `${classes[k]} ${Number.isNaN(v) ? '–' : pct(v)}`).join(', ')}`);
  console.log(`  confusion (row = true) ${r.confusionMatrix.map((row) => `[${row.join(' ')}]`).join(' ')}`);
}
