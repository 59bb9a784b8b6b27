import { afterAll, describe, expect, it } from 'vitest';
import { createStrategy, type StrategyConfigInput } from '../../shared/fl/registry';
import { StrategyError, strategyNames } from '../../shared/fl/strategy';
import { AggregationWorker, runStrategy } from './runInWorker';

const worker = new AggregationWorker();
afterAll(() => worker.close());

/** Six sites, three tensors, one of them wild. */
function round(seed: number) {
  return Array.from({ length: 6 }, (_, i) => ({
    participantId: `site-${i}`,
    numSamples: 20 + i * seed,
    delta: [
      Float32Array.from({ length: 300 }, (_, j) => Math.sin(seed + i * 7 + j) * (i === 4 ? 50 : 0.01)),
      Float32Array.from({ length: 40 }, (_, j) => Math.cos(seed * i + j) * 0.02),
      Float32Array.from([i - 2.5]),
    ],
  }));
}
const model = (): Float32Array[] => [new Float32Array(300).fill(0.5), new Float32Array(40), Float32Array.from([1])];
const bits = (ts: readonly Float32Array[]) => ts.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64'));

describe('aggregation in a worker thread', () => {
  it.each(strategyNames)('%s gives the same bits, state and report as inline over three rounds', async (name) => {
    const config = { name, options: { normBound: { factor: 3 } } } as StrategyConfigInput;
    const inline = createStrategy(config);
    let a = model();
    let b = model();
    let sa = null;
    let sb = null;
    for (let r = 1; r <= 3; r++) {
      const ups = round(r);
      const x = inline.aggregate(a, ups, sa);
      const y = await worker.run(config, b, ups, sb);
      expect(bits(y.weights)).toEqual(bits(x.weights));
      expect(y.report).toEqual(x.report);
      expect(y.state === null).toBe(x.state === null);
      if (x.state) {
        expect(y.state!.step).toBe(x.state.step);
        for (const slot of Object.keys(x.state.slots)) expect(bits(y.state!.slots[slot])).toEqual(bits(x.state.slots[slot]));
      }
      ({ weights: a, state: sa } = x);
      ({ weights: b, state: sb } = y);
    }
  });

  it('leaves the caller’s arrays intact (it transfers copies)', async () => {
    const ups = round(1);
    const base = model();
    await worker.run({ name: 'median' }, base, ups);
    expect(ups[0].delta[0].length).toBe(300);
    expect(base[0][0]).toBe(0.5);
  });

  it('can take the callers’ buffers over without a copy, with the same bits', async () => {
    const ups = round(2);
    const base = model();
    const expected = bits(createStrategy({ name: 'trimmed-mean' }).aggregate(base, ups).weights);
    // A view into a larger buffer is copied rather than taken: its neighbours stay intact.
    const shared = new Float32Array(400);
    shared.set(ups[1].delta[0], 50);
    ups[1] = { ...ups[1], delta: [shared.subarray(50, 350), ...ups[1].delta.slice(1)] };
    const r = await worker.run({ name: 'trimmed-mean' }, base, ups, null, { handOver: true });
    expect(bits(r.weights)).toEqual(expected);
    expect(ups[0].delta[0].length).toBe(0);
    expect(base[0].length).toBe(0);
    expect(shared.length).toBe(400);
  });

  it('passes a strategy’s refusal back with its code', async () => {
    const err = await worker.run({ name: 'krum', options: { byzantine: 2 } }, model(), round(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrategyError);
    expect((err as StrategyError).code).toBe('too_few_updates');
  });

  it('ignores another strategy’s state, as inline', async () => {
    const prior = createStrategy({ name: 'fedadam' }).aggregate(model(), round(1)).state;
    const r = await worker.run({ name: 'fedyogi' }, model(), round(2), prior);
    expect(r.report.stateReset).toBe(true);
    expect(bits(r.weights)).toEqual(bits(createStrategy({ name: 'fedyogi' }).aggregate(model(), round(2), prior).weights));
  });

  it('keeps the event loop free while a large round aggregates', async () => {
    const ups = Array.from({ length: 10 }, (_, i) => ({
      participantId: `p${i}`,
      numSamples: 1,
      delta: [Float32Array.from({ length: 200_000 }, (_, j) => ((i * 7919 + j * 104729) % 1000) / 1000)],
    }));
    await worker.warm();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const r = await runStrategy({ name: 'median' }, [new Float32Array(200_000)], ups, null, { workerThreshold: 1_000_000, worker });
    clearInterval(timer);
    expect(r.ranIn).toBe('worker');
    expect(ticks).toBeGreaterThan(0);
  });

  it('stays inline below the threshold', async () => {
    const r = await runStrategy({ name: 'median' }, model(), round(1), null, { workerThreshold: 1e9, worker });
    expect(r.ranIn).toBe('inline');
  });

  it('replaces a worker that was ended by a timeout', async () => {
    const big = Array.from({ length: 10 }, (_, i) => ({ participantId: `p${i}`, numSamples: 1, delta: [new Float32Array(500_000).fill(i)] }));
    const err = await worker.run({ name: 'median' }, [new Float32Array(500_000)], big, null, { timeoutMs: 1 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/did not finish/);
    const r = await worker.run({ name: 'fedavg' }, model(), round(1));
    expect(bits(r.weights)).toEqual(bits(createStrategy({ name: 'fedavg' }).aggregate(model(), round(1)).weights));
  });
});

describe('closing the worker', () => {
  it('refuses jobs still running, and a later job starts a new thread', async () => {
    const own = new AggregationWorker();
    const big = Array.from({ length: 10 }, (_, i) => ({ participantId: `p${i}`, numSamples: 1, delta: [new Float32Array(300_000).fill(i)] }));
    const pending = own.run({ name: 'median' }, [new Float32Array(300_000)], big).catch((e: Error) => e);
    await own.close();
    expect(String(await pending)).toMatch(/closed/);
    const r = await own.run({ name: 'median' }, model(), round(3));
    expect(bits(r.weights)).toEqual(bits(createStrategy({ name: 'median' }).aggregate(model(), round(3)).weights));
    await own.close();
  });
});
