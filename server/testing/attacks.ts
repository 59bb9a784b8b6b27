import type { AttackKind } from './simulatedHospital';
import type { SimulationResult } from './simulation';

/**
 * What an attack did, measured the one way the simulator, its test and its bench all measure it:
 * the attacked and the clean final models' accuracy on the honest sites' validation records (the
 * same records for both, computed by the simulation from the published models), and the pooled
 * accuracy the server reports for the attacked study's final version.
 */
export interface AttackOutcome {
  kind: AttackKind;
  seed: number;
  finalAccuracy: number;
  cleanAccuracy: number;
  reportedAccuracy: number;
}

/** The final model's accuracy on the validation records of the sites that did not attack in `attacked`. */
export function honestAccuracy(run: SimulationResult, attacked: SimulationResult): number {
  const honest = attacked.sites.map((s) => !s.attack && !s.poisoned);
  const sites = run.sites.filter((_, k) => honest[k]);
  return sites.reduce((a, s) => a + s.finalCorrect, 0) / sites.reduce((a, s) => a + s.validation, 0);
}

export function attackOutcome(kind: AttackKind, seed: number, clean: SimulationResult, attacked: SimulationResult): AttackOutcome {
  return {
    kind,
    seed,
    finalAccuracy: honestAccuracy(attacked, attacked),
    cleanAccuracy: honestAccuracy(clean, attacked),
    reportedAccuracy: attacked.rounds.at(-1)?.accuracy ?? Number.NaN,
  };
}

const four = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'nan');

/** `npm run simulate -- --attack KIND`'s last line, exactly. */
export function attackLine(o: AttackOutcome): string {
  return `simulate: attack=${o.kind} seed=${o.seed} final_accuracy=${four(o.finalAccuracy)} clean_accuracy=${four(o.cleanAccuracy)} reported_accuracy=${four(o.reportedAccuracy)}`;
}

/** The bounds the defaults are held to: the honest accuracy within 3 points of clean, and for forged reports the reported figure too. */
export function attackHeld(o: AttackOutcome): boolean {
  return o.cleanAccuracy - o.finalAccuracy <= 0.03 && (o.kind !== 'report' || Math.abs(o.reportedAccuracy - o.cleanAccuracy) <= 0.03);
}
