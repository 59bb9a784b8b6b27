import { describe, expect, it } from 'vitest';
import { budgetStopText, delta, epsilon, spentOfBudget, stoppedByBudget } from './privacyFormat';

const status = { epsilon: 1.2345, delta: 1e-5, budget: 3, rounds: 4, exhausted: false };

describe('privacy figures as the console and the hospital tab say them', () => {
  it('writes ε to three figures and δ as it is usually written', () => {
    expect([epsilon(0), epsilon(1.2345), epsilon(0.041234), epsilon(12.345), epsilon(3)]).toEqual(['0', '1.23', '0.0412', '12.3', '3']);
    expect([delta(1e-5), delta(2.5e-6), delta(0.001), delta(0.005)]).toEqual(['1e-5', '2.5e-6', '0.001', '0.005']);
    expect(spentOfBudget(status)).toBe('ε 1.23 of 3 (δ 1e-5)');
  });

  it('tells a study stopped by its budget from one an admin stopped', () => {
    expect(stoppedByBudget('stopped', { ...status, exhausted: true })).toBe(true);
    expect(stoppedByBudget('stopped', status)).toBe(false);
    expect(stoppedByBudget('stopped', null)).toBe(false);
    // Exhausted while its last round still closes: not stopped yet.
    expect(stoppedByBudget('running', { ...status, exhausted: true })).toBe(false);
    expect(budgetStopText({ epsilon: 2.918, budget: 3 })).toBe('Stopped: privacy budget spent (ε 2.92 of 3)');
  });
});
