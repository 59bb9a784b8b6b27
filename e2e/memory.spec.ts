import { expect, test } from './support/fixtures';
import type { MemorySnapshot } from '../web/training/protocol';

/**
 * No tensor leaks across rounds: inside each tab's training worker, TensorFlow.js holds as many
 * tensors and bytes after the tenth round (and the tenth version's evaluation) as after the second.
 * The first round may leave one-off state behind (kernels' constants, caches), hence round 2.
 */

const ROUNDS = 10;
test.use({ serverOptions: { env: { DEMO_ROUNDS: String(ROUNDS), DEMO_EPOCHS: '1' } } });

test('tf.memory() in the training worker stays flat over ten federated rounds', async ({ openHospitals }) => {
  // Ten rounds of three tabs: minutes on a loaded two-core machine.
  test.setTimeout(420_000);
  const hospitals = await openHospitals(3);
  for (const h of hospitals) {
    await expect(h.page.getByTestId('rounds-done')).toHaveText(String(ROUNDS), { timeout: 360_000 });
    await expect(h.page.getByTestId('last-accuracy')).toHaveAttribute('data-version', String(ROUNDS), { timeout: 60_000 });
  }
  for (const h of hospitals) {
    const { trace, now } = await h.page.evaluate(async () => {
      const w = window.__consilium!.worker;
      return { trace: await w.memoryTrace(), now: await w.memory() };
    });
    const at = (job: MemorySnapshot['job'], round: number) => {
      const s = trace.find((m) => m.job === job && m.round === round);
      expect(s, `${h.name}: no ${job} snapshot for ${round}`).toBeDefined();
      return { numTensors: s!.numTensors, numBytes: s!.numBytes };
    };
    const trained = trace.filter((m) => m.job === 'train');
    console.log(`${h.name} (${now.backend}): tensors after each round ${trained.map((m) => m.numTensors).join(', ')}; bytes ${trained.map((m) => m.numBytes).join(', ')}; now ${now.numTensors}`);
    expect(trained.map((m) => m.round)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
    expect(trained.every((m) => m.backend === 'cpu')).toBe(true);
    expect(at('train', ROUNDS)).toEqual(at('train', 2));
    expect(at('evaluate', ROUNDS)).toEqual(at('evaluate', 2));
    expect({ numTensors: now.numTensors, numBytes: now.numBytes }).toEqual(at('evaluate', ROUNDS));
  }
});

/**
 * The same training core on the other backends a tab may measure fastest: ten local rounds each, on
 * the site's own data, without the federation around them (its rounds are the CPU test's above).
 * WebGPU runs on SwiftShader here (software rendering): one epoch per round keeps it to a minute.
 */
for (const backend of ['webgl', 'wasm', 'webgpu'] as const) {
  test(`training leaves no tensors behind on ${backend}, round after round`, async ({ openHospitals }) => {
    test.setTimeout(300_000);
    const [h] = await openHospitals(1, { backend, join: false });
    await expect(h.page.getByTestId('backend')).toHaveText(backend, { timeout: 60_000 });
    const counts = await h.page.evaluate(
      async ({ siteId, rounds }) => {
        const w = window.__consilium!.worker;
        const out: { numTensors: number; numBytes: number; backend: string | null }[] = [];
        for (let r = 1; r <= rounds; r++) {
          await w.benchmark({ siteId, templateId: 'heart-risk', epochs: 1, seed: r });
          out.push(await w.memory());
        }
        return out;
      },
      { siteId: h.siteId, rounds: ROUNDS },
    );
    console.log(`${backend}: tensors after each local round ${counts.map((c) => c.numTensors).join(', ')}; bytes ${counts.map((c) => c.numBytes).join(', ')}`);
    expect(counts.every((c) => c.backend === backend)).toBe(true);
    expect(counts[ROUNDS - 1]).toEqual(counts[1]);
  });
}

/**
 * An idle GPU backend gives its device back (memory, compiled programs) and starts again for the next
 * job. The page's worker waits 60 s; the test shortens that to 2 s through the worker's `init`.
 */
test('the worker releases an idle GPU backend and starts it again for the next job', async ({ openHospitals }) => {
  test.setTimeout(180_000);
  const [h] = await openHospitals(1, { backend: 'webgl', join: false });
  await expect(h.page.getByTestId('backend')).toHaveText('webgl', { timeout: 60_000 });
  const seen = await h.page.evaluate(async (siteId) => {
    const w = window.__consilium!.worker;
    await w.init({ gpuIdleReleaseMs: 2_000 });
    const job = (seed: number) => w.benchmark({ siteId, templateId: 'heart-risk', epochs: 1, seed });
    await job(1);
    const busy = await w.memory();
    const start = performance.now();
    let idle = await w.memory();
    while (idle.gpuHeld.length > 0 && performance.now() - start < 30_000) {
      await new Promise((r) => setTimeout(r, 250));
      idle = await w.memory();
    }
    const releasedAfterMs = Math.round(performance.now() - start);
    const next = await job(2);
    return { busy, idle, releasedAfterMs, next: { backend: next.backend, samplesPerSecond: next.samplesPerSecond }, again: await w.memory() };
  }, h.siteId);
  console.log(`webgl: held after a job ${JSON.stringify(seen.busy.gpuHeld)}, released after ${seen.releasedAfterMs} ms idle; the next job ran on ${seen.next.backend}`);
  expect(seen.busy.gpuHeld).toEqual(['webgl']);
  expect(seen.idle).toMatchObject({ gpuHeld: [], numTensors: 0, backend: null });
  expect(seen.next.backend).toBe('webgl');
  expect(seen.next.samplesPerSecond).toBeGreaterThan(0);
  expect(seen.again).toMatchObject({ gpuHeld: ['webgl'], backend: 'webgl', numTensors: 0 });
});
