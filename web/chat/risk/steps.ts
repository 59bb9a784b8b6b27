import type { PublicRiskModel } from '../../../shared/protocol/riskModel';
import type { FactorSummary } from './factors';

/** What the risk check says in the conversation, one message each. */
export type RiskStep =
  | { kind: 'intro'; text: string }
  | {
      kind: 'question';
      feature: string;
      number: number;
      total: number;
      prompt: string;
      help: string;
      choices: { value: number; label: string }[];
      unknownAllowed: boolean;
    }
  | { kind: 'refusal'; text: string }
  | { kind: 'note'; text: string }
  | { kind: 'unavailable'; text: string }
  | { kind: 'stopped'; text: string }
  | { kind: 'result'; result: RiskResult };

export interface RiskResult {
  probability: number;
  baselineProbability: number;
  factors: FactorSummary;
  model: {
    version: number;
    approvedAt: string | null;
    studyName: string;
    outcome: string;
    validation: PublicRiskModel['validation'];
    statistics: PublicRiskModel['statistics'];
  };
  backend: string;
}
