import { addScaledInto, addScaledInto4 } from './sums';

/**
 * `Σ (nᵢ / Σn)·Δᵢ` in float64, fed in a fixed order: one update at a time (the coordinator reads
 * them from the database one by one, so memory holds the model, this sum and one update, however
 * many updates the round has) or four at a time (in memory, faster). Either way every coordinate
 * sums the same terms in the same order, so the bits are the same. It takes no norms: a running
 * norm's additions wait on each other and would set the pace; the mean strategies take each update's
 * norm in the report's pass instead (`squaredDistancesAndNormsTo`).
 */
export class WeightedMeanAccumulator {
  /** The running sum; after the last update, the sample-weighted mean delta. */
  readonly sum: Float64Array[];
  /** Nothing added yet: `sum` is all +0 and not yet touched. */
  private fresh = true;

  /** `totalSamples` is Σn over every update to come, summed in their order. */
  constructor(
    lengths: readonly number[],
    private readonly totalSamples: number,
  ) {
    if (!(totalSamples > 0)) throw new Error('a weighted mean needs a positive total sample count');
    this.sum = lengths.map((n) => new Float64Array(n));
  }

  /** Adds `(numSamples / Σn)·delta`. The layout must be the model's. */
  add(numSamples: number, delta: readonly Float32Array[]): void {
    this.checkLayout(delta);
    const w = numSamples / this.totalSamples;
    for (let t = 0; t < this.sum.length; t++) addScaledInto(this.sum[t], delta[t], w, this.fresh);
    this.fresh = false;
  }

  /** `add` for each, in the given order, four per pass. */
  addAll(samples: readonly number[], deltas: readonly (readonly Float32Array[])[]): void {
    let k = 0;
    for (; k + 4 <= deltas.length; k += 4) {
      const [a, b, c, d] = [deltas[k], deltas[k + 1], deltas[k + 2], deltas[k + 3]];
      for (const x of [a, b, c, d]) this.checkLayout(x);
      const total = this.totalSamples;
      const [w0, w1, w2, w3] = [samples[k] / total, samples[k + 1] / total, samples[k + 2] / total, samples[k + 3] / total];
      for (let t = 0; t < this.sum.length; t++) addScaledInto4(this.sum[t], a[t], b[t], c[t], d[t], w0, w1, w2, w3, this.fresh);
      this.fresh = false;
    }
    for (; k < deltas.length; k++) this.add(samples[k], deltas[k]);
  }

  private checkLayout(delta: readonly Float32Array[]): void {
    if (delta.length !== this.sum.length) throw new Error(`an update of ${delta.length} tensors added to a model of ${this.sum.length}`);
  }
}
