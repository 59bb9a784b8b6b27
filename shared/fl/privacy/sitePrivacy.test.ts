import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../synthetic/rng';
import { roundBounds, updateWeight } from '../bounds';
import { FixedPointSum } from '../fixedPoint';
import { decideRound } from '../roundPolicy';
import { addGaussianNoise, clipToNorm, enrolledWeight, poissonSample, privacyPlan, roundsWithinBudget, siteWeight, studySpent, type SitePrivacy } from './sitePrivacy';

const privacy: SitePrivacy = { clipNorm: 1.5, noiseMultiplier: 1.1, sampleRate: 0.2, delta: 1e-5, epsilonBudget: 5, recordCap: 100 };

describe('the bounded-weight estimator of DP-FedAvg', () => {
  it('weighs a site min(n / n_cap, 1) and sums W over the enrolled sites that reported', () => {
    expect(siteWeight(50, 100)).toBe(0.5);
    expect(siteWeight(1e8, 100)).toBe(1);
    expect(siteWeight(0, 100)).toBe(0);
    expect(enrolledWeight([50, 200, null, 100], 100)).toBe(2.5);
  });

  it('fixes the denominator q·W and the noise z·C/(q·W) when the round opens, whatever the sample', () => {
    const bounds = roundBounds(
      { clipping: { mode: 'fixed', norm: 1.5 }, maxUpdateNorm: null, weightCapFactor: 2, privacy },
      { previousBound: null, previousNorms: [], initialNorm: 3, reportedCounts: [40], round: 3, enrolledCounts: [40, 200, 300, 100, 80] },
    );
    expect(bounds.clipNorm).toBe(1.5);
    expect(bounds.sampleCap).toBe(100);
    expect(bounds.maxWeight).toBe(1);
    const W = 0.4 + 1 + 1 + 1 + 0.8;
    expect(bounds.privacy!.denominator).toBeCloseTo(0.2 * W, 12);
    expect(bounds.privacy!.noiseStd).toBeCloseTo((1.1 * 1.5) / (0.2 * W), 12);
    expect(bounds.privacy!.epsilon).toBe(studySpent(privacy, 3).epsilon);
    expect(updateWeight(1e8, 1, bounds)).toBe(1);
    expect(updateWeight(40, 1, bounds)).toBe(0.4);
  });

  it('bounds any one site’s influence on the mean by C / (q·W), however large its update or its declared records', () => {
    const rand = mulberry32(7);
    const lengths = [40, 9];
    for (let trial = 0; trial < 25; trial++) {
      const sites = 3 + Math.floor(rand() * 6);
      const records = Array.from({ length: sites }, () => (rand() < 0.3 ? 1e8 : 1 + Math.floor(rand() * 300)));
      const bounds = roundBounds(
        { clipping: { mode: 'fixed', norm: privacy.clipNorm }, maxUpdateNorm: null, weightCapFactor: null, privacy },
        { previousBound: null, previousNorms: [], initialNorm: 1, reportedCounts: records, round: 1, enrolledCounts: records },
      );
      // Some updates far beyond the clip (an attacker's), some within it.
      const updates = records.map(() => lengths.map((n) => Float32Array.from({ length: n }, () => (rand() - 0.5) * (rand() < 0.4 ? 1e3 : 0.2))));
      const mean = (skip: number) => {
        const sum = new FixedPointSum(lengths, bounds.scaleBits);
        updates.forEach((u, k) => {
          if (k === skip) return;
          const norm = Math.sqrt(u.reduce((s, t) => s + t.reduce((a, v) => a + v * v, 0), 0));
          const clipScale = norm > privacy.clipNorm ? privacy.clipNorm / norm : 1;
          const m = sum.multiplier(updateWeight(records[k], 1, bounds), clipScale);
          u.forEach((t, i) => sum.addRange(m, lengths.slice(0, i).reduce((a, b) => a + b, 0), t));
          sum.countUpdate();
        });
        return sum.mean(bounds.privacy!.denominator).flatMap((t) => [...t]);
      };
      const all = mean(-1);
      const bound = privacy.clipNorm / bounds.privacy!.denominator;
      for (let k = 0; k < sites; k++) {
        const without = mean(k);
        const moved = Math.sqrt(all.reduce((s, v, i) => s + (v - without[i]) ** 2, 0));
        expect(moved).toBeLessThanOrEqual(bound * (1 + 1e-6));
      }
    }
  });
});

describe('the mechanism’s randomness', () => {
  it('adds noise of the configured standard deviation, centred, independent across coordinates', () => {
    const n = 200_000;
    const std = 0.37;
    const mean = [new Float64Array(n / 2).fill(2), new Float64Array(n / 2).fill(-1)];
    addGaussianNoise(mean, std, mulberry32(11));
    const noise = [...mean[0]].map((v) => v - 2).concat([...mean[1]].map((v) => v + 1));
    const m = noise.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    // The sample mean's standard error is std/√n; the sample sd's about std/√(2n): 5 of each.
    expect(Math.abs(m)).toBeLessThan((5 * std) / Math.sqrt(n));
    expect(Math.abs(sd / std - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
    // Gaussian tails: about 4.55 % beyond 2 sd, 0.27 % beyond 3 sd.
    const beyond = (k: number) => noise.filter((v) => Math.abs(v) > k * std).length / n;
    expect(beyond(2)).toBeCloseTo(0.0455, 2);
    expect(beyond(3)).toBeCloseTo(0.0027, 3);
    // Neighbouring coordinates are uncorrelated (Box–Muller's pairs included).
    let lag = 0;
    for (let i = 1; i < n; i++) lag += noise[i] * noise[i - 1];
    expect(Math.abs(lag / (n - 1) / std ** 2)).toBeLessThan(5 / Math.sqrt(n));
  });

  it('samples each site with probability q, independently', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `site-${String(i).padStart(4, '0')}`);
    const rand = mulberry32(3);
    const counts = new Map<string, number>();
    const trials = 200;
    for (let t = 0; t < trials; t++) for (const id of poissonSample(ids, 0.3, rand)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const expected = 0.3 * ids.length * trials;
    expect(Math.abs(total - expected)).toBeLessThan(5 * Math.sqrt(expected * 0.7));
    expect(poissonSample(ids, 1, rand)).toEqual(ids);
  });

  it('clips a delta to the norm, a hair inside it, and leaves a shorter one alone', () => {
    const delta = [Float32Array.from([3, 4]), Float32Array.from([0])];
    expect(clipToNorm(delta, 1)).toBeLessThan(0.2 + 1e-9);
    expect(Math.hypot(...delta[0])).toBeLessThanOrEqual(1);
    expect(Math.hypot(...delta[0])).toBeGreaterThan(0.9999);
    const short = [Float32Array.from([0.3, 0.4])];
    expect(clipToNorm(short, 1)).toBe(1);
    expect([...short[0]]).toEqual([Float32Array.from([0.3])[0], Float32Array.from([0.4])[0]]);
  });
});

describe('the budget', () => {
  it('counts the rounds it allows and says when the study stops early or the federation is too small', () => {
    const allowed = roundsWithinBudget(privacy, 1000);
    expect(studySpent(privacy, allowed).epsilon).toBeLessThanOrEqual(privacy.epsilonBudget);
    expect(studySpent(privacy, allowed + 1).epsilon).toBeGreaterThan(privacy.epsilonBudget);
    // Heart-risk's 385 parameters, as measured in docs/benchmarks.md.
    const small = privacyPlan({ ...privacy, sampleRate: 1, noiseMultiplier: 18.1, epsilonBudget: 1 }, { rounds: 20, sites: 5, parameters: 385 });
    expect(small.noiseToSignal).toBeCloseTo(Math.sqrt(385) * 3.62, 10);
    expect(small.warnings.join(' ')).toMatch(/5 sites are too few for this privacy: each round’s noise is 71 × the largest update one site may send, and the model will stay near chance/);
    const costly = privacyPlan({ ...privacy, sampleRate: 0.2, noiseMultiplier: 4, epsilonBudget: 100 }, { rounds: 20, sites: 100, parameters: 385 });
    expect(costly.warnings.join(' ')).toMatch(/with 100 sites sampled at q = 0.2, each round’s noise is 3.92 × .*expect the model to lose accuracy/);
    const large = privacyPlan({ ...privacy, epsilonBudget: 100 }, { rounds: 20, sites: 500, parameters: 385 });
    expect(large.warnings).toEqual([]);
    expect(large.roundsAllowed).toBe(20);
    expect(privacyPlan({ ...privacy, epsilonBudget: 0.01 }, { rounds: 20, sites: 500, parameters: 385 }).warnings[0]).toMatch(/allows no round/);
    expect(privacyPlan({ ...privacy, noiseMultiplier: 100, epsilonBudget: 100 }, { rounds: 2, sites: 1, parameters: 100 }).warnings.join(' ')).toMatch(/^1 site sampled at q = 0.2 is too few/);
  });

  it('releases a private round whatever arrives, at once when no site was sampled, and never abandons it', () => {
    const base = { minParticipants: 3, deadline: 1000, noiseOnly: true };
    expect(decideRound({ ...base, sampled: 0, received: 0, now: 0 })).toEqual({ action: 'aggregate', reason: 'none_sampled' });
    expect(decideRound({ ...base, sampled: 4, received: 1, now: 0 }).action).toBe('wait');
    expect(decideRound({ ...base, sampled: 4, received: 0, now: 2000 })).toEqual({ action: 'aggregate', reason: 'deadline_private' });
    expect(decideRound({ ...base, sampled: 4, received: 4, now: 0 })).toEqual({ action: 'aggregate', reason: 'all_reported' });
  });
});
