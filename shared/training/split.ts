import { applyNormalisation, type Normalisation } from '../fl/normalisation';
import { deriveSeed, mulberry32, shuffledIndices } from '../synthetic/rng';
import { encodeRecords } from '../tasks/encoding';
import type { TabularRecord, TaskTemplate } from '../tasks/spec';
import { subset, type Dataset } from './dataset';

/**
 * Seeded split stratified by label: each label value keeps `round(fraction × count)` of its rows for
 * validation, so a small site's validation split has the site's label balance. Both index lists are
 * ascending.
 */
export function splitTrainValidation(
  labels: ArrayLike<number>,
  fraction: number,
  seed: number,
): { train: Uint32Array; validation: Uint32Array } {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`validation fraction ${fraction} is outside [0, 1]`);
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const rows = byLabel.get(labels[i]);
    if (rows) rows.push(i);
    else byLabel.set(labels[i], [i]);
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const rows = byLabel.get(label)!;
    const order = shuffledIndices(rows.length, mulberry32(deriveSeed(seed, `split-label-${label}`)));
    const held = Math.round(fraction * rows.length);
    order.forEach((k, pos) => (pos < held ? validation : train).push(rows[k]));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: Uint32Array.from(train.sort(ascending)), validation: Uint32Array.from(validation.sort(ascending)) };
}

/**
 * A site's records, encoded and split the one way every part of Consilium splits them: stratified,
 * seeded by `deriveSeed(seed, siteId)`. The browser worker and the Node baselines both call this, so
 * a site's validation rows are the same everywhere. `config` defaults to the template's defaults; pass
 * the study's config when it overrides them.
 */
export function hospitalSplit(
  template: TaskTemplate,
  siteId: string,
  records: readonly TabularRecord[],
  config: { validationFraction: number; seed: number } = template.defaults,
  normalisation?: Normalisation | null,
): { train: Dataset; validation: Dataset } {
  // The study's federated statistics when it has them; the template's reference ones before.
  const encoded = encodeRecords(applyNormalisation(template.features, normalisation), records);
  const ds: Dataset = { x: encoded.x, y: encoded.y, n: encoded.n, width: encoded.width };
  const { train, validation } = splitTrainValidation(ds.y, config.validationFraction, deriveSeed(config.seed, siteId));
  return { train: subset(ds, train), validation: subset(ds, validation) };
}
