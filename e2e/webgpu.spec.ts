import { expect, test } from './support/fixtures';

test('the worker trains on WebGPU (SwiftShader here) and its loss matches the CPU backend', async ({ openHospitals }) => {
  const [h] = await openHospitals(1, { backend: 'webgpu', join: false });
  await expect(h.page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  const result = await h.page.evaluate(async (siteId) => {
    const c = window.__consilium!;
    const backend = await c.worker.getBackend();
    const check = await c.worker.lossCheck({ templateId: 'heart-risk', siteId, seed: 7 });
    return { backend, check, after: await c.worker.getBackend() };
  }, h.siteId);
  expect(result.backend).toBe('webgpu');
  expect(result.check.backend).toBe('webgpu');
  expect(Math.abs(result.check.loss - result.check.cpuLoss)).toBeLessThan(1e-3);
  // The check switches to the CPU and back: training goes on on WebGPU.
  expect(result.after).toBe('webgpu');
  console.log(`one epoch: webgpu loss ${result.check.loss.toFixed(6)}, cpu loss ${result.check.cpuLoss.toFixed(6)}`);
});
