import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clinicalMetricsSchema } from '../metrics/clinical';
import { sparseTotal } from '../metrics/histogram';
import { implausibleReport } from '../metrics/plausibility';
import { demoHospitals, generateHeartRecords } from '../synthetic';
import { generateHcvRecords, hcvHospitals } from '../synthetic/hcv';
import { hcvStage } from '../tasks/hcvStage';
import { heartRisk } from '../tasks';
import { initialWeights } from '../tasks/modelSpec';
import { evaluateModel } from './evaluate';
import { hospitalSplit } from './split';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** What the tab's worker and the simulator send: the evaluation's metrics, histograms included, as the server checks them. */
describe('evaluateModel: score histograms', () => {
  it('binary: histograms of the model\'s outputs that agree with the rest of the report', async () => {
    const { validation } = hospitalSplit(heartRisk, demoHospitals[0].id, generateHeartRecords(demoHospitals[0]));
    const ev = await evaluateModel(heartRisk.model, initialWeights(heartRisk.model, 5), validation);
    const c = ev.clinical;
    expect(c.kind).toBe('binary');
    if (c.kind !== 'binary') return;
    expect(sparseTotal(c.histogram!.positive) + sparseTotal(c.histogram!.negative)).toBe(validation.n);
    expect(clinicalMetricsSchema.safeParse(c).success).toBe(true);
    expect(implausibleReport({ loss: ev.loss, accuracy: ev.accuracy, numSamples: ev.numSamples, clinical: c }, 2)).toBeNull();
    // A study that may not release them (differential privacy) leaves them out.
    const without = await evaluateModel(heartRisk.model, initialWeights(heartRisk.model, 5), validation, { histogram: false });
    expect(without.clinical.histogram).toBeUndefined();
  });

  it('multi-class: one-vs-rest histograms per class', async () => {
    const { validation } = hospitalSplit(hcvStage, hcvHospitals[0].id, generateHcvRecords(hcvHospitals[0]));
    const ev = await evaluateModel(hcvStage.model, initialWeights(hcvStage.model, 5), validation);
    const c = ev.clinical;
    expect(c.kind).toBe('multiclass');
    if (c.kind !== 'multiclass') return;
    const classes = hcvStage.label.classes!.length;
    expect(c.histogram!.perClass).toHaveLength(classes);
    expect(implausibleReport({ loss: ev.loss, accuracy: ev.accuracy, numSamples: ev.numSamples, clinical: c }, classes)).toBeNull();
    expect(JSON.stringify(c).length).toBeLessThan(16 * 1024);
  });
});
