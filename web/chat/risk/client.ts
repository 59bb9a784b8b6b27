import * as Comlink from 'comlink';
import type { RiskWorkerApi } from './protocol';

export type RiskWorker = Comlink.Remote<RiskWorkerApi>;

/** Starts the risk worker: TensorFlow.js loads there, never on the chat page's thread. */
export function startRiskWorker(): { remote: RiskWorker; terminate: () => void } {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'consilium-risk-check' });
  const remote = Comlink.wrap<RiskWorkerApi>(worker);
  return {
    remote,
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
