import type { PrivacyStatus } from '../shared/protocol';

/** ε as people read it: three significant figures, no trailing zeros (1.23, 0.0412, 12.3). */
export function epsilon(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return Number(x.toPrecision(3)).toString();
}

/** δ as it is usually written: 1e-5, 2.5e-6; large ones plainly (0.001). */
export function delta(x: number): string {
  if (!(x > 0) || x >= 1e-3) return String(x);
  return x.toExponential();
}

/** "ε 1.23 of 3 (δ 1e-5)": what a study has spent of its budget. */
export function spentOfBudget(p: Pick<PrivacyStatus, 'epsilon' | 'budget' | 'delta'>): string {
  return `ε ${epsilon(p.epsilon)} of ${epsilon(p.budget)} (δ ${delta(p.delta)})`;
}

/** The study stopped itself because one more round would have passed its privacy budget. */
export function stoppedByBudget(status: string, privacy: PrivacyStatus | null | undefined): boolean {
  return status === 'stopped' && !!privacy?.exhausted;
}

/** "Stopped: privacy budget spent (ε 2.91 of 3)". */
export function budgetStopText(p: Pick<PrivacyStatus, 'epsilon' | 'budget'>): string {
  return `Stopped: privacy budget spent (ε ${epsilon(p.epsilon)} of ${epsilon(p.budget)})`;
}
