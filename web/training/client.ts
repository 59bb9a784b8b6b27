import * as Comlink from 'comlink';
import type { TrainingWorkerApi } from './protocol';

export type TrainingWorker = Comlink.Remote<TrainingWorkerApi>;

/** Starts the dedicated training worker; TensorFlow.js never loads on the page's thread. */
export function startTrainingWorker(): { remote: TrainingWorker; terminate: () => void } {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'consilium-training' });
  const remote = Comlink.wrap<TrainingWorkerApi>(worker);
  return {
    remote,
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export const progressCallback = <T>(fn: (p: T) => void) => Comlink.proxy(fn);
