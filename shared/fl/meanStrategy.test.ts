import { describe, expect, it } from 'vitest';
import type { WeightedUpdate } from './fedavg';
import { weightedMeanDelta } from './fedavg';
import { createStrategy, type StrategyConfigInput } from './registry';
import type { ServerState } from './state';
import { StrategyError, type AggregationResult } from './strategy';

/** Seven sites (a block of four and a tail of three), three tensors, values of very different sizes. */
function round(seed: number): WeightedUpdate[] {
  return Array.from({ length: 7 }, (_, i) => ({
    participantId: `site-${(i * 5) % 7}`,
    numSamples: 13 + ((i * seed * 31) % 97) + 0.5 * (i % 2),
    delta: [
      Float32Array.from({ length: 301 }, (_, j) => Math.sin(seed * 3 + i * 7 + j) * 10 ** ((j % 9) - 6)),
      Float32Array.from({ length: 17 }, (_, j) => Math.cos(seed * i + j) * 0.02),
      Float32Array.from([i - 2.5 + seed]),
    ],
  }));
}
const model = (): Float32Array[] => [new Float32Array(301).fill(0.5), new Float32Array(17), Float32Array.from([1])];
const bits = (ts: readonly ArrayLike<number>[]) => ts.map((t) => Buffer.from(Float64Array.from(t).buffer).toString('base64'));

/** What the coordinator does: one update at a time, in the stream's order, twice. */
function streamed(config: StrategyConfigInput, base: Float32Array[], updates: WeightedUpdate[], state: ServerState | null): AggregationResult {
  const s = createStrategy(config).stream!(base, updates.map(({ participantId, numSamples }) => ({ participantId, numSamples })), state);
  for (const i of s.order) s.add(updates[i].delta.map((t) => t.slice()));
  for (const i of s.order) s.measure(updates[i].delta);
  return s.finish();
}

const meanBased = ['fedavg', 'fedavgm', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad'] as const;

describe('mean-based strategies fed one update at a time', () => {
  it.each(meanBased)('%s gives the in-memory result bit for bit over three rounds: weights, state and report', (name) => {
    const config = { name } as StrategyConfigInput;
    let a = model();
    let b = model();
    let sa: ServerState | null = null;
    let sb: ServerState | null = null;
    for (let r = 1; r <= 3; r++) {
      const ups = round(r);
      const x = createStrategy(config).aggregate(a, ups, sa);
      const y = streamed(config, b, ups, sb);
      expect(bits(y.weights)).toEqual(bits(x.weights));
      expect(y.report).toEqual(x.report);
      expect(y.state?.step).toBe(x.state?.step);
      for (const slot of Object.keys(x.state?.slots ?? {})) expect(bits(y.state!.slots[slot])).toEqual(bits(x.state!.slots[slot]));
      ({ weights: a, state: sa } = x);
      ({ weights: b, state: sb } = y);
    }
  });

  it('sums each coordinate in participant order, as the one-update loop does', () => {
    const ups = round(4);
    const base = model();
    const ordered = [...ups].sort((p, q) => (p.participantId < q.participantId ? -1 : 1));
    const total = ordered.reduce((s, u) => s + u.numSamples, 0);
    const reference = base.map((g, t) => {
      const acc = new Float64Array(g.length);
      for (const u of ordered) for (let i = 0; i < acc.length; i++) acc[i] += (u.numSamples / total) * u.delta[t][i];
      return acc;
    });
    expect(bits(weightedMeanDelta(base, ups))).toEqual(bits(reference));
    const r = createStrategy({ name: 'fedavg' }).aggregate(base, [...ups].reverse());
    expect(r.report.updates.map((u) => u.participantId)).toEqual(ordered.map((u) => u.participantId));
    // Norms and distances are the plain loops' too.
    const mean = reference;
    ordered.forEach((u, k) => {
      let n2 = 0;
      let d2 = 0;
      u.delta.forEach((d, t) =>
        d.forEach((x, i) => {
          n2 += x * x;
          d2 += (x - mean[t][i]) ** 2;
        }),
      );
      expect(r.report.updates[k].norm).toBe(Math.sqrt(n2));
      expect(r.report.updates[k].distance).toBe(Math.sqrt(d2));
    });
  });

  it('is not offered with a norm bound, which needs every norm first', () => {
    expect(createStrategy({ name: 'fedavg', options: { normBound: { factor: 2 } } }).stream).toBeUndefined();
    expect(createStrategy({ name: 'median' }).stream).toBeUndefined();
    expect(createStrategy({ name: 'krum' }).stream).toBeUndefined();
  });

  it('refuses what the in-memory form refuses, naming the update', () => {
    const s = createStrategy({ name: 'fedyogi' });
    expect(() => s.stream!(model(), [])).toThrow(StrategyError);
    expect(() => s.stream!(model(), [{ participantId: 'a', numSamples: 0 }])).toThrow(/a claims 0 samples/);
    const st = s.stream!(model(), [{ participantId: 'a', numSamples: 3 }]);
    expect(() => st.add([new Float32Array(301)])).toThrow(/update from a has 1 tensors/);
    const wrong = model();
    wrong[1] = new Float32Array(3);
    expect(() => st.add(wrong)).toThrow(/tensor 1 has the wrong length/);
  });

  it('keeps its two passes in order', () => {
    const ups = round(1).slice(0, 2);
    const st = createStrategy({ name: 'fedavg' }).stream!(model(), ups);
    expect(() => st.measure(ups[0].delta)).toThrow(/after every add/);
    st.add(ups[st.order[0]].delta);
    expect(() => st.finish()).toThrow(/before every update/);
    st.add(ups[st.order[1]].delta);
    expect(() => st.add(ups[0].delta)).toThrow(/more updates/);
    st.measure(ups[st.order[0]].delta);
    st.measure(ups[st.order[1]].delta);
    expect(st.finish().report.updates).toHaveLength(2);
  });
});
