import { z } from 'zod';
import type { WeightedUpdate } from './fedavg';
import { normBoundOption } from './normBound';
import { defineStrategy, StrategyError, type Strategy } from './strategy';
import { pairwiseSquaredDistances } from './pairwise';
import { addStep } from './sums';

/**
 * Krum and Multi-Krum (Blanchard et al. 2017). With n updates of which up to f may be Byzantine,
 * each update's score is the sum of squared distances to its n − f − 2 nearest other updates; Krum
 * takes the update with the lowest score, Multi-Krum the plain mean of the m lowest. The guarantee
 * needs n ≥ 2f + 3. Ties go to the earlier participant id.
 */
export const krumOptionsSchema = z.strictObject({
  normBound: normBoundOption,
  /** f: the number of Byzantine updates to tolerate. */
  byzantine: z.number().int().min(0).default(1),
});
export const multiKrumOptionsSchema = z.strictObject({
  normBound: normBoundOption,
  byzantine: z.number().int().min(0).default(1),
  /** m: how many of the best-scored updates to average; n − f when not given (Blanchard et al.). */
  select: z.number().int().positive().optional(),
});
export type KrumOptions = z.input<typeof krumOptionsSchema>;
export type MultiKrumOptions = z.input<typeof multiKrumOptionsSchema>;

/** Krum scores, in the order given. */
export function krumScores(updates: readonly WeightedUpdate[], byzantine: number): number[] {
  return scoresFrom(krumTable(updates, byzantine), updates.length, byzantine);
}

/** The pairwise squared distances Krum scores from, after checking there are enough updates. */
function krumTable(updates: readonly WeightedUpdate[], byzantine: number): Float64Array {
  const n = updates.length;
  if (n - byzantine - 2 < 1) throw new StrategyError('too_few_updates', `Krum with f = ${byzantine} needs at least ${byzantine + 3} updates, got ${n}`);
  return pairwiseSquaredDistances(updates.map((u) => u.delta));
}

function scoresFrom(table: Float64Array, n: number, byzantine: number): number[] {
  const neighbours = n - byzantine - 2;
  return Array.from({ length: n }, (_, i) => {
    const others = Array.from(table.subarray(i * n, (i + 1) * n)).filter((_, j) => j !== i).sort((a, b) => a - b);
    let s = 0;
    for (let k = 0; k < neighbours; k++) s += others[k];
    return s;
  });
}

export function krumStrategy(options: KrumOptions = {}): Strategy {
  const o = krumOptionsSchema.parse(options);
  return selecting('krum', o.byzantine, () => 1, o.normBound);
}

export function multiKrumStrategy(options: MultiKrumOptions = {}): Strategy {
  const o = multiKrumOptionsSchema.parse(options);
  return selecting('multi-krum', o.byzantine, (n) => Math.min(o.select ?? n - o.byzantine, n), o.normBound);
}

function selecting(name: 'krum' | 'multi-krum', f: number, howMany: (n: number) => number, normBound: z.infer<typeof normBoundOption>): Strategy {
  return defineStrategy({
    name,
    minUpdates: 2 * f + 3,
    weighted: false,
    normBound,
    rule(base, ordered) {
      const n = ordered.length;
      const table = krumTable(ordered, f);
      const scores = scoresFrom(table, n, f);
      const m = howMany(n);
      const ranked = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const chosen = new Set(ranked.slice(0, m).map(([, i]) => i));
      const agg = base.map((b, t) => {
        const acc = new Float64Array(b.length);
        for (let k = 0; k < n; k++) if (chosen.has(k)) addInto(acc, ordered[k].delta[t]);
        for (let i = 0; i < acc.length; i++) acc[i] /= m;
        return acc;
      });
      return {
        weights: addStep(base, agg),
        aggregate: agg,
        state: null,
        selected: ordered.map((_, k) => chosen.has(k)),
        weight: ordered.map((_, k) => (chosen.has(k) ? 1 / m : 0)),
        score: scores,
        // Krum's aggregate is the chosen update itself (exactly: float32 to float64, divided by 1),
        // so each update's distance to it is already in the table, bit for bit.
        distances: m === 1 ? table.slice([...chosen][0] * n, ([...chosen][0] + 1) * n) : undefined,
        details: { byzantine: f, neighbours: n - f - 2, selected: m },
      };
    },
  });
}

function addInto(acc: Float64Array, d: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += d[i];
}
