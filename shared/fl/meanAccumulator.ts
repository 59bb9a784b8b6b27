import { addScaledInto, addScaledInto4 } from './sums';

/**
 * `Σ (nᵢ / Σn)·Δᵢ` in float64, fed in a fixed order, four updates per pass: `add` holds an update
 * until four are waiting (the coordinator reads them from the database one by one, so memory holds
 * the model, this sum and at most four updates, however many the round has), `addAll` takes them
 * from memory. Every coordinate sums the same terms in the same order as the one-update loop, so the
 * bits are the same however the updates are grouped. It takes no norms: a running norm's additions
 * wait on each other and would set the pace; the mean strategies take each update's norm in the
 * report's pass instead (`squaredDistancesAndNormsTo`).
 */
export class WeightedMeanAccumulator {
  private readonly partial: Float64Array[];
  /** Nothing added yet: `partial` is all +0 and not yet touched. */
  private fresh = true;
  /** Updates handed to `add` and not yet summed (at most three between calls). */
  private readonly waiting: { w: number; delta: readonly Float32Array[] }[] = [];

  /** `totalSamples` is Σn over every update to come, summed in their order. */
  constructor(
    lengths: readonly number[],
    private readonly totalSamples: number,
  ) {
    if (!(totalSamples > 0)) throw new Error('a weighted mean needs a positive total sample count');
    this.partial = lengths.map((n) => new Float64Array(n));
  }

  /** The running sum of what was added; after the last update, the sample-weighted mean delta. */
  get sum(): Float64Array[] {
    this.flush();
    return this.partial;
  }

  /**
   * Adds `(numSamples / Σn)·delta`. The layout must be the model's. The update may be held (not
   * copied) until three more arrive or `sum` is read: it must not change meanwhile.
   */
  add(numSamples: number, delta: readonly Float32Array[]): void {
    this.checkLayout(delta);
    this.waiting.push({ w: numSamples / this.totalSamples, delta });
    if (this.waiting.length === 4) this.flush();
  }

  /** `add` for each, in the given order. */
  addAll(samples: readonly number[], deltas: readonly (readonly Float32Array[])[]): void {
    deltas.forEach((d, k) => this.add(samples[k], d));
  }

  /** Sums what is waiting: four in one pass, fewer one by one (the same bits either way). */
  private flush(): void {
    const q = this.waiting;
    if (q.length === 4) {
      const [a, b, c, d] = q;
      for (let t = 0; t < this.partial.length; t++)
        addScaledInto4(this.partial[t], a.delta[t], b.delta[t], c.delta[t], d.delta[t], a.w, b.w, c.w, d.w, this.fresh);
      this.fresh = false;
    } else
      for (const u of q) {
        for (let t = 0; t < this.partial.length; t++) addScaledInto(this.partial[t], u.delta[t], u.w, this.fresh);
        this.fresh = false;
      }
    q.length = 0;
  }

  private checkLayout(delta: readonly Float32Array[]): void {
    if (delta.length !== this.partial.length) throw new Error(`an update of ${delta.length} tensors added to a model of ${this.partial.length}`);
  }
}
