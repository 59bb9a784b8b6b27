import { describe, expect, it } from 'vitest';
import { fedAdagradOptionsSchema, fedAdagradStrategy, fedAdamOptionsSchema, fedAdamStrategy, fedYogiOptionsSchema, fedYogiStrategy } from './adaptive';
import type { Strategy } from './strategy';
import { decodeServerState, encodeServerState, type ServerState } from './state';

const f = (...v: number[]) => Float32Array.from(v);

/** The defaults (shared/fl/adaptive.ts): η relative to the first round's RMS mean delta. */
const ETA_ADAM = 1;
const ETA_ADAGRAD = 4;
const BETA1 = 0.5;
/** RMS of the test's first mean delta [4, −8, 0], as stored (float32). */
const S1 = Math.fround(Math.sqrt(80 / 3));

/**
 * Two sites per round, A with 1 sample and B with 3, chosen so that the sample-weighted mean delta
 * is Δ: A = Δ + 3, B = Δ − 1, and (Δ + 3 + 3·(Δ − 1)) / 4 = Δ.
 */
const meanDeltas = [
  [4, -8, 0],
  [2, 4, 0],
  [-2, -4, 0],
];
const rounds = meanDeltas.map((d) => [
  { participantId: 'a', numSamples: 1, delta: [f(...d.map((x) => x + 3))] },
  { participantId: 'b', numSamples: 3, delta: [f(...d.map((x) => x - 1))] },
]);

function run(s: Strategy, viaStorage = false) {
  let weights: Float32Array[] = [f(1, 1, 1)];
  let state: ServerState | null = null;
  const out = [];
  for (const ups of rounds) {
    const r = s.aggregate(weights, ups, state);
    weights = r.weights;
    state = viaStorage ? decodeServerState(encodeServerState(r.state!)) : r.state;
    out.push({ x: Array.from(r.weights[0]), m: Array.from(r.state!.slots.m[0]), v: Array.from(r.state!.slots.v[0]), r });
  }
  return out;
}

function expectClose(actual: number[], expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i], 6));
}

// The paper's cold start (warmStart: false): β₁ = 0.5, β₂ = 0.75, τ = 1, η = 1, v starts at τ² = 1; x starts at [1, 1, 1].
// m is the same for all three: m1 = 0.5·Δ1 = [2, −4, 0], m2 = 0.5·m1 + 0.5·Δ2 = [2, 0, 0], m3 = [0, −2, 0].
const opts = { beta1: 0.5, beta2: 0.75, tau: 1, serverLearningRate: 1, warmStart: false };
const m = [
  [2, -4, 0],
  [2, 0, 0],
  [0, -2, 0],
];

describe('adaptive federated optimisers (Reddi et al. 2021)', () => {
  it('FedAdam matches a hand-computed sequence', () => {
    // v1 = 0.75·1 + 0.25·Δ1² = [4.75, 16.75, 0.75]
    // v2 = 0.75·v1 + 0.25·Δ2² = [3.5625 + 1, 12.5625 + 4, 0.5625] = [4.5625, 16.5625, 0.5625]
    // v3 = 0.75·v2 + 0.25·Δ3² = [4.421875, 16.421875, 0.421875]
    const v = [
      [4.75, 16.75, 0.75],
      [4.5625, 16.5625, 0.5625],
      [4.421875, 16.421875, 0.421875],
    ];
    const x1 = [1 + 2 / (Math.sqrt(4.75) + 1), 1 - 4 / (Math.sqrt(16.75) + 1), 1];
    const x2 = [x1[0] + 2 / (Math.sqrt(4.5625) + 1), x1[1], 1];
    const x3 = [x2[0], x2[1] - 2 / (Math.sqrt(16.421875) + 1), 1];
    const out = run(fedAdamStrategy(opts));
    [x1, x2, x3].forEach((x, i) => {
      expect(out[i].m).toEqual(m[i]);
      expect(out[i].v).toEqual(v[i]);
      expectClose(out[i].x, x);
    });
    expectClose(out[2].x, [2.266795, -0.1812938, 1]);
  });

  it('FedYogi matches a hand-computed sequence, growing and shrinking v by the sign of v − Δ²', () => {
    // v1 = 1 − 0.25·Δ1²·sign(1 − Δ1²) = [1 + 4, 1 + 16, 1 − 0] = [5, 17, 1]
    // v2: v1 − Δ2² = [1, 1, 1] > 0, so v shrinks: [5 − 1, 17 − 4, 1] = [4, 13, 1]
    // v3: v2 − Δ3² = [0, −3, 1]: first unchanged, second grows: [4, 13 + 4, 1] = [4, 17, 1]
    const v = [
      [5, 17, 1],
      [4, 13, 1],
      [4, 17, 1],
    ];
    const x1 = [1 + 2 / (Math.sqrt(5) + 1), 1 - 4 / (Math.sqrt(17) + 1), 1];
    const x2 = [x1[0] + 2 / (2 + 1), x1[1], 1];
    const x3 = [x2[0], x2[1] - 2 / (Math.sqrt(17) + 1), 1];
    const out = run(fedYogiStrategy(opts));
    [x1, x2, x3].forEach((x, i) => {
      expect(out[i].m).toEqual(m[i]);
      expect(out[i].v).toEqual(v[i]);
      expectClose(out[i].x, x);
    });
    expectClose(out[2].x, [2.284701, -0.1711646, 1]);
  });

  it('FedAdagrad matches a hand-computed sequence', () => {
    // v accumulates Δ²: [1 + 16, 1 + 64, 1] = [17, 65, 1], then [21, 81, 1], then [25, 97, 1]
    const v = [
      [17, 65, 1],
      [21, 81, 1],
      [25, 97, 1],
    ];
    const x1 = [1 + 2 / (Math.sqrt(17) + 1), 1 - 4 / (Math.sqrt(65) + 1), 1];
    const x2 = [x1[0] + 2 / (Math.sqrt(21) + 1), x1[1], 1];
    const x3 = [x2[0], x2[1] - 2 / (Math.sqrt(97) + 1), 1];
    const out = run(fedAdagradStrategy({ beta1: 0.5, tau: 1, serverLearningRate: 1, warmStart: false }));
    [x1, x2, x3].forEach((x, i) => {
      expect(out[i].m).toEqual(m[i]);
      expect(out[i].v).toEqual(v[i]);
      expectClose(out[i].x, x);
    });
    expectClose(out[2].x, [1.748646, 0.3742577, 1]);
  });

  it('with warmStart: false, starts as the paper does: m = 0, v = τ², no bias correction', () => {
    // The paper's values (β₁ = 0.9, β₂ = 0.99, τ = 1e-3, absolute η = 1e-2), no longer the defaults (issue 20); Δ = [4, −8, 0]
    const r = fedAdamStrategy({ warmStart: false, relativeStep: false, beta1: 0.9, serverLearningRate: 0.01 }).aggregate([f(0, 0, 0)], rounds[0]);
    const v = [0.99e-6 + 0.01 * 16, 0.99e-6 + 0.01 * 64, 0.99e-6];
    const mm = [0.4, -0.8, 0];
    expectClose(Array.from(r.state!.slots.m[0]), mm);
    // float32 storage: compare relative to the value
    r.state!.slots.v[0].forEach((x, i) => expect(Math.abs(x - v[i]) / v[i]).toBeLessThan(1e-6));
    expectClose(
      Array.from(r.weights[0]),
      mm.map((mi, i) => (0.01 * mi) / (Math.sqrt(v[i]) + 1e-3)),
    );
    expect(r.report.details.step).toBe(1);
  });

  it('continues from serialised state with the same bits as an uninterrupted run', () => {
    for (const s of [fedAdamStrategy(), fedYogiStrategy(), fedAdagradStrategy()]) {
      const direct = run(s);
      const stored = run(s, true);
      expect(stored.map((o) => o.x)).toEqual(direct.map((o) => o.x));
    }
  });

  it('keeps every step within η·|m|/τ even where v is tiny', () => {
    const tiny = [{ participantId: 'a', numSamples: 1, delta: [f(1e-20, -1e-20)] }];
    const r = fedAdamStrategy({ tau: 1e-3, serverLearningRate: 0.1, warmStart: false, relativeStep: false }).aggregate([f(0, 0)], tiny);
    for (const x of r.weights[0]) expect(Number.isFinite(x) && Math.abs(x) < 1e-10).toBe(true);
  });

  it('by default, round 1 takes FedAvg’s step and starts the moments from it (warm start, issue 20)', () => {
    for (const s of [fedAdamStrategy(), fedYogiStrategy(), fedAdagradStrategy()]) {
      const out = run(s);
      // Round 1: x = [1, 1, 1] + Δ1, m = Δ1, v = Δ1², and the step's unit s = RMS(Δ1) = √(80/3).
      expect(out[0].x).toEqual([5, -7, 1]);
      expect(out[0].m).toEqual([4, -8, 0]);
      expect(out[0].v).toEqual([16, 64, 0]);
      expect(Array.from(out[0].r.state!.slots.scale[0])).toEqual([S1, S1, S1]);
      expect(out[0].r.report.details.step).toBe(1);
    }
    // Round 2, FedAdam with the defaults β₁ = 0.5, β₂ = 0.99, τ = 1e-3, η = 1 (relative); Δ2 = [2, 4, 0]:
    // m = 0.5·Δ1 + 0.5·Δ2 = [3, −2, 0], v = 0.99·Δ1² + 0.01·Δ2² = [15.88, 63.52, 0]
    const adam = run(fedAdamStrategy());
    expectClose(adam[1].m, [3, -2, 0]);
    const step = (mi: number, vi: number) => (ETA_ADAM * S1 * mi) / (Math.sqrt(vi) + 1e-3 * S1);
    expectClose(adam[1].x, [5 + step(3, 15.88), -7 + step(-2, 63.52), 1]);
    // A study continued from stored state does not warm-start again, and keeps the first round's unit.
    const resumed = fedAdamStrategy().aggregate(adam[0].r.weights, rounds[1], decodeServerState(encodeServerState(adam[0].r.state!)));
    expect(Array.from(resumed.weights[0])).toEqual(adam[1].x);
    expect(Array.from(resumed.state!.slots.scale[0])).toEqual([S1, S1, S1]);
  });

  it('has the documented defaults', () => {
    for (const schema of [fedAdamOptionsSchema, fedYogiOptionsSchema])
      expect(schema.parse({})).toEqual({ normBound: null, tau: 1e-3, beta1: BETA1, beta2: 0.99, serverLearningRate: ETA_ADAM, warmStart: true, relativeStep: true });
    expect(fedAdagradOptionsSchema.parse({})).toEqual({ normBound: null, tau: 1e-3, beta1: BETA1, serverLearningRate: ETA_ADAGRAD, warmStart: true, relativeStep: true });
    // relativeStep: false alone takes the absolute η of before (0.03, Adagrad 0.1).
    expect(fedAdamOptionsSchema.parse({ relativeStep: false }).serverLearningRate).toBe(0.03);
    expect(fedAdagradOptionsSchema.parse({ relativeStep: false }).serverLearningRate).toBe(0.1);
    // Changing only η (the admin form's patch) stays relative.
    expect(fedYogiOptionsSchema.parse({ serverLearningRate: 0.5 }).relativeStep).toBe(true);
  });

  it('reads a configuration stored before relativeStep (η, β₁, τ named) as the absolute step it was', () => {
    const stored = { normBound: null, tau: 1e-3, beta1: 0.9, beta2: 0.99, serverLearningRate: 0.03, warmStart: true };
    expect(fedAdamOptionsSchema.parse(stored)).toEqual({ ...stored, relativeStep: false });
    const legacy = run(fedAdamStrategy(stored));
    const absolute = run(fedAdamStrategy({ ...stored, relativeStep: false }));
    expect(legacy.map((o) => o.x)).toEqual(absolute.map((o) => o.x));
    expect(legacy[0].r.state!.slots.scale).toBeUndefined();
    // Round 2 as before relativeStep: x + η·m / (√v + τ), η = 0.03 absolute.
    expectClose(legacy[1].x, [5 + (0.03 * 3.8) / (Math.sqrt(15.88) + 1e-3), -7 - (0.03 * 6.8) / (Math.sqrt(63.52) + 1e-3), 1]);
  });

  it('continues state stored without a scale (before relativeStep) with absolute steps', () => {
    const first = fedYogiStrategy({ relativeStep: false, serverLearningRate: 1 }).aggregate([f(1, 1, 1)], rounds[0]);
    const old: ServerState = { ...first.state!, slots: { m: first.state!.slots.m, v: first.state!.slots.v } };
    const relative = fedYogiStrategy({ serverLearningRate: 1 }).aggregate(first.weights, rounds[1], old);
    const absolute = fedYogiStrategy({ relativeStep: false, serverLearningRate: 1 }).aggregate(first.weights, rounds[1], old);
    expect(Array.from(relative.weights[0])).toEqual(Array.from(absolute.weights[0]));
    expect(relative.state!.slots.scale).toBeUndefined();
  });

  it('with relativeStep, scaling every delta by c scales every step by c', () => {
    const scaled = (c: number) =>
      rounds.map((ups) => ups.map((u) => ({ ...u, delta: u.delta.map((d) => d.map((x) => x * c)) })));
    for (const make of [fedAdamStrategy, fedYogiStrategy, fedAdagradStrategy]) {
      for (const warmStart of [true, false]) {
        const path = (c: number) => {
          const s = make({ warmStart });
          let w: Float32Array[] = [f(0, 0, 0)];
          let st: ServerState | null = null;
          for (const ups of scaled(c)) ({ weights: w, state: st } = s.aggregate(w, ups, st));
          return Array.from(w[0]);
        };
        const one = path(1);
        path(1 / 64).forEach((x, i) => expect(x * 64).toBeCloseTo(one[i], 4));
      }
    }
  });

  it('gives each tensor its own unit; an all-zero tensor takes the whole model’s RMS', () => {
    const ups = [{ participantId: 'a', numSamples: 1, delta: [f(3, -4), f(0, 0), f(0.5)] }];
    const r = fedAdagradStrategy().aggregate([f(0, 0), f(0, 0), f(0)], ups);
    const scale = r.state!.slots.scale.map((t) => Array.from(t));
    const overall = Math.fround(Math.sqrt((9 + 16 + 0.25) / 5));
    expect(scale).toEqual([[Math.fround(Math.sqrt(12.5)), Math.fround(Math.sqrt(12.5))], [overall, overall], [0.5]]);
  });
});
