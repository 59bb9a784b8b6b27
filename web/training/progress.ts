import type { BackendName } from '../../shared/protocol';
import type { TrainProgress } from './protocol';

/** A finite number, or undefined for NaN, infinities and nothing. */
export const finiteOrUndefined = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : undefined);

const PROGRESS_INTERVAL_MS = 250;
/**
 * On a GPU backend, about how much of the backend's work passes between two reads of a batch's loss
 * (`trainLocal` paces them by batches and keeps the backend busy while a read comes back).
 */
const GPU_READ_INTERVAL_MS = 250;

/**
 * Progress callbacks for `trainLocal`: the latest batch's loss every `PROGRESS_INTERVAL_MS` on the
 * CPU and WASM; on GPU backends, where a read waits for the backend, a batch's loss about every
 * `GPU_READ_INTERVAL_MS` of its work (so progress reaches the page within an epoch, about once a
 * second at worst), and each epoch's mean at its end. Reports the start at once.
 */
export function trainingProgress(backend: BackendName, round: number, epochs: number, report: (p: TrainProgress) => void) {
  const cheapReads = backend === 'cpu' || backend === 'wasm';
  let epochsDone = 0;
  let lastReport = 0;
  report({ phase: 'training', round, epoch: 1, epochs });
  return {
    batchReadEveryMs: cheapReads ? 0 : GPU_READ_INTERVAL_MS,
    onBatchEnd: (batch: number, loss: number) => {
      const now = Date.now();
      if (now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      report({ phase: 'training', round, epoch: Math.min(epochsDone + 1, epochs), epochs, batch, loss: finiteOrUndefined(loss) });
    },
    onEpochEnd: (_epoch: number, loss: number) => {
      epochsDone++;
      lastReport = Date.now();
      report({ phase: 'training', round, epoch: epochsDone, epochs, loss: finiteOrUndefined(loss) });
    },
  };
}
