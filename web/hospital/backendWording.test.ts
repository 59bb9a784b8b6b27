import { describe, expect, it } from 'vitest';
import { chooseBackend } from '../training/backendChoice';
import { backendRows, backendSummary, plainReason } from './backendWording';

const measured = chooseBackend([
  { backend: 'webgpu', available: false, reason: 'fallback adapter (google swiftshader)' },
  { backend: 'webgl', available: true, msPerStep: 2, samplesPerSecond: 16000, gradientError: 3e-6 },
  { backend: 'wasm', available: true, msPerStep: 1, samplesPerSecond: 32000, gradientError: 5e-2 },
  { backend: 'cpu', available: true, msPerStep: 6, samplesPerSecond: 5333, gradientError: 0 },
]);

describe('backend table wording', () => {
  it('has the same four rows in the same order whatever was measured', () => {
    expect(backendRows(measured.figures).map((r) => r.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    const partial = backendRows(measured.figures.filter((f) => f.backend === 'cpu'));
    expect(partial.map((r) => r.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(partial[0]).toMatchObject({ speed: 'not measured', agreement: 'not measured', result: 'Not available here' });
  });

  it('says what was measured, which was chosen and why, in plain words and no bare dashes', () => {
    const rows = backendRows(measured.figures);
    const [webgpu, webgl, wasm, cpu] = rows;
    expect(webgl).toMatchObject({ result: 'Used', speed: '16,000 records/s', why: 'fastest of the methods whose results matched the reference' });
    expect(webgl.agreement).toBe('yes: differs by 3.0e-6 (at most 1.0e-2 allowed)');
    expect(wasm).toMatchObject({ result: 'Not used: wrong results', agreement: 'no: differs by 5.0e-2 (at most 1.0e-2 allowed)' });
    expect(cpu).toMatchObject({ agreement: 'is the reference', why: '3.0 times as long per step as WebGL' });
    expect(webgpu.why).toBe('only a software stand-in for a graphics card, slower than the processor (fallback adapter (google swiftshader))');
    for (const r of rows) for (const v of Object.values(r)) expect(v).not.toBe('—');
    expect(backendSummary(measured.figures)).toMatch(/timed 3 of 4 ways .* It trains with WebGL \(graphics card\): fastest of the methods whose results matched the reference\.$/);
  });

  it('keeps an unknown reason as it is', () => {
    expect(plainReason('something new')).toBe('something new');
  });
});
