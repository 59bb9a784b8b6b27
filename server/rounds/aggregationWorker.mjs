// Worker-thread entry for heavy aggregations. Plain ESM on purpose: Node 20 does not apply the
// parent's module hooks (tsx's `--import`) inside worker threads, so the worker loads the
// TypeScript job runner through tsx's API, which works the same under `tsx server/main.ts` and
// under vitest.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { runJob } = await tsImport('./aggregationJob.ts', import.meta.url);

parentPort.on('message', (job) => {
  const { reply, transfer } = runJob(job);
  parentPort.postMessage(reply, transfer);
});
parentPort.postMessage({ ready: true });
