import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { privacySpent } from './rdp';
import { recordPrivacySchema, recordSpent, stepsWithinBudget } from './recordLevel';

const privacyCli = (...args: string[]) => execFileSync('npx', ['tsx', 'scripts/privacy.ts', ...args], { encoding: 'utf8' }).trim().split('\n').at(-1)!;

describe('recordPrivacySchema', () => {
  it('defaults to the Opacus plan (z 1.1, C 1.0, ε 1.0 per site, δ 1e-5)', () => {
    expect(recordPrivacySchema.parse({})).toEqual({ noiseMultiplier: 1.1, clipNorm: 1, epsilonBudget: 1, delta: 1e-5 });
    expect(() => recordPrivacySchema.parse({ clipNorm: 0 })).toThrow(/clipNorm/);
    expect(() => recordPrivacySchema.parse({ other: 1 })).toThrow();
  });
});

describe('the record-level accountant', () => {
  it('agrees with npm run privacy for one run', () => {
    const spent = recordSpent([{ sampleRate: 0.08, steps: 250 }], 1.1, 1e-5);
    expect(spent).toEqual(privacySpent({ sampleRate: 0.08, noise: 1.1, steps: 250, delta: 1e-5 }));
    const line = privacyCli('--sample-rate', '0.08', '--noise', '1.1', '--steps', '250', '--delta', '1e-5');
    const printed = Number(/epsilon=([\d.]+)/.exec(line)![1]);
    expect(spent.epsilon).toBeCloseTo(printed, 5);
  }, 60_000);

  it('composes two runs at the same q as one run of their summed steps', () => {
    const two = recordSpent([{ sampleRate: 0.05, steps: 120 }, { sampleRate: 0.05, steps: 80 }], 1.1, 1e-5);
    const one = recordSpent([{ sampleRate: 0.05, steps: 200 }], 1.1, 1e-5);
    expect(two.epsilon).toBeCloseTo(one.epsilon, 10);
    // Runs at different rates compose too: more than either alone.
    const mixed = recordSpent([{ sampleRate: 0.05, steps: 200 }, { sampleRate: 0.2, steps: 10 }], 1.1, 1e-5);
    expect(mixed.epsilon).toBeGreaterThan(one.epsilon);
    expect(recordSpent([], 1.1, 1e-5).epsilon).toBe(0);
  });

  it('finds the most steps within the budget: one more would exceed it', () => {
    // At ε 1 one step at q 0.064 is already too much (ε 1.45): a budget of 3 leaves about 40.
    const s = { sampleRate: 0.064, noiseMultiplier: 1.1, delta: 1e-5, epsilonBudget: 3 };
    const k = stepsWithinBudget(s);
    expect(k).toBeGreaterThan(0);
    expect(privacySpent({ sampleRate: 0.064, noise: 1.1, steps: k, delta: 1e-5 }).epsilon).toBeLessThanOrEqual(3);
    expect(privacySpent({ sampleRate: 0.064, noise: 1.1, steps: k + 1, delta: 1e-5 }).epsilon).toBeGreaterThan(3);
    // After spending part, what is left fits exactly too.
    const spent = [{ sampleRate: 0.064, steps: Math.floor(k / 3) }];
    const left = stepsWithinBudget({ ...s, spent });
    expect(recordSpent([...spent, { sampleRate: 0.064, steps: left }], 1.1, 1e-5).epsilon).toBeLessThanOrEqual(3);
    expect(recordSpent([...spent, { sampleRate: 0.064, steps: left + 1 }], 1.1, 1e-5).epsilon).toBeGreaterThan(3);
    expect(stepsWithinBudget({ ...s, spent: [{ sampleRate: 0.064, steps: k }] })).toBe(0);
  });
});
