import { describe, expect, it } from 'vitest';
import { recordPrivacySchema, recordSpent, stepsWithinBudget } from './recordLevel';
import { assignSite, plannedSteps, sampleRateFor, smallestSiteThatTrains } from './recordPlan';

describe("a site's DP-SGD work", () => {
  const work = { batchSize: 32, localEpochs: 2, localSteps: 10 };

  it('samples at q = batch / records and counts steps, or epochs in expected batches', () => {
    expect(sampleRateFor(work, 500)).toBe(0.064);
    expect(sampleRateFor(work, 20)).toBe(1);
    expect(plannedSteps(work, 500)).toBe(10);
    expect(plannedSteps({ ...work, localSteps: null }, 500)).toBe(2 * 16);
  });

  it('assigns the study steps, then what the budget leaves, then nothing', () => {
    // The seed's default budget (ε 1) allows no step at q 0.064 (500 records, 32 a step).
    expect(assignSite(recordPrivacySchema.parse({}), work, 500)).toBeNull();
    const privacy = recordPrivacySchema.parse({ epsilonBudget: 3 });
    expect(assignSite(privacy, work, 500)).toEqual({ sampleRate: 0.064, steps: 10 });
    const k = stepsWithinBudget({ ...privacy, sampleRate: 0.064 });
    const late = assignSite(privacy, work, 500, [{ sampleRate: 0.064, steps: k - 4 }]);
    expect(late).toEqual({ sampleRate: 0.064, steps: 4 });
    expect(recordSpent([{ sampleRate: 0.064, steps: k }], 1.1, 1e-5).epsilon).toBeLessThanOrEqual(3);
    expect(assignSite(privacy, work, 500, [{ sampleRate: 0.064, steps: k }])).toBeNull();
    expect(assignSite(privacy, work, null)).toBeNull();
  });
});

describe('the smallest site that trains', () => {
  it('is the first size at which one step fits the budget', () => {
    const privacy = recordPrivacySchema.parse({});
    const n = smallestSiteThatTrains(privacy, 32)!;
    expect(assignSite(privacy, { batchSize: 32, localEpochs: 1 }, n)).not.toBeNull();
    expect(assignSite(privacy, { batchSize: 32, localEpochs: 1 }, n - 1)).toBeNull();
    expect(n).toBeGreaterThan(1_000);
    // A generous budget: even a site of one batch trains.
    expect(smallestSiteThatTrains(recordPrivacySchema.parse({ epsilonBudget: 100 }), 32)).toBe(1);
  });
});
