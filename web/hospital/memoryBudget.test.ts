import { describe, expect, it } from 'vitest';
import { mebibytes, memoryBudgetFromQuery } from './memoryBudget';

describe('memory budget from the hospital link', () => {
  it('reads MiB, fractions included', () => {
    expect(memoryBudgetFromQuery('256')).toBe(256 * 2 ** 20);
    expect(memoryBudgetFromQuery('0.01')).toBe(Math.round(0.01 * 2 ** 20));
  });

  it('leaves the default for a missing or meaningless value', () => {
    for (const v of [null, '', ' ', '0', '-3', 'lots', 'Infinity']) expect(memoryBudgetFromQuery(v)).toBeUndefined();
  });

  it('shows the budget back as it was written', () => {
    expect(mebibytes(memoryBudgetFromQuery('0.01')!)).toBe('0.01');
    expect(mebibytes(256 * 2 ** 20)).toBe('256');
    expect(mebibytes(1.5 * 2 ** 20)).toBe('1.5');
  });
});
