import { describe, expect, it } from 'vitest';
import { ModelDownloads } from './downloads';
import { refusedNorm, roundTimeline } from './timeline';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));

describe('roundTimeline', () => {
  const base = { openedAt: at(0), deadline: at(60), closedAt: at(31), publishedAt: at(31), aggregationStartedAt: at(30) };

  it('puts first and last update in arrival order and the quorum at the needed-th on-time update', () => {
    const t = roundTimeline({
      ...base,
      // Out of order as rows may come; the late update (a straggler's) arrives second but does not count toward the quorum.
      updates: [
        { receivedAt: at(20), onTime: true },
        { receivedAt: at(5), onTime: true },
        { receivedAt: at(8), onTime: false },
        { receivedAt: at(12), onTime: true },
      ],
      needed: 2,
    });
    expect(t).toEqual({
      openedAt: at(0).toISOString(),
      deadline: at(60).toISOString(),
      firstUpdateAt: at(5).toISOString(),
      quorumAt: at(12).toISOString(),
      lastUpdateAt: at(20).toISOString(),
      aggregationStartedAt: at(30).toISOString(),
      closedAt: at(31).toISOString(),
      publishedAt: at(31).toISOString(),
    });
  });

  it('has no quorum when too few on-time updates came, and no update times without updates', () => {
    expect(roundTimeline({ ...base, updates: [{ receivedAt: at(4), onTime: true }, { receivedAt: at(6), onTime: false }], needed: 2 }).quorumAt).toBeNull();
    const open = roundTimeline({ openedAt: at(0), deadline: at(60), closedAt: null, publishedAt: null, aggregationStartedAt: null, updates: [], needed: 3 });
    expect(open).toMatchObject({ firstUpdateAt: null, quorumAt: null, lastUpdateAt: null, aggregationStartedAt: null, closedAt: null, publishedAt: null });
  });
});

describe('refusedNorm', () => {
  it('reads the norm a norm refusal states, and nothing from other refusals', () => {
    expect(refusedNorm('update_norm_exceeded', "the update's L2 norm 1.234e+5 exceeds the study's bound of 100")).toBe(123400);
    expect(refusedNorm('update_norm_exceeded', 'something else')).toBeNull();
    expect(refusedNorm('update_not_finite', "the update's L2 norm 3 exceeds")).toBeNull();
  });
});

describe('ModelDownloads', () => {
  const bytes = (n: number) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(n - 1));
        c.enqueue(new Uint8Array(1));
        c.close();
      },
    });
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const reader = s.getReader();
    let n = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.byteLength;
    return n;
  };

  it('counts the bytes as they are read and a download once all have gone, per study and version', async () => {
    const d = new ModelDownloads(0);
    expect(await drain(d.count('s', 1, bytes(100)))).toBe(100);
    expect(await drain(d.count('s', 1, bytes(100)))).toBe(100);
    await drain(d.count('t', 1, bytes(7)));
    expect(d.of('s', 1)).toEqual({ version: 1, downloads: 2, bytes: 200 });
    expect(d.of('t', 1)).toEqual({ version: 1, downloads: 1, bytes: 7 });
    expect(d.of('s', 2)).toEqual({ version: 2, downloads: 0, bytes: 0 });
    expect(d.since.getTime()).toBe(0);
  });

  it('counts a download of known size as soon as its last byte is handed on', async () => {
    const d = new ModelDownloads();
    const reader = d.count('s', 3, bytes(50), 50).getReader();
    await reader.read();
    expect(d.of('s', 3)).toEqual({ version: 3, downloads: 0, bytes: 49 });
    await reader.read();
    expect(d.of('s', 3)).toEqual({ version: 3, downloads: 1, bytes: 50 });
    expect((await reader.read()).done).toBe(true);
    expect(d.of('s', 3).downloads).toBe(1);
  });

  it('counts the bytes of a download cut off, but not the download', async () => {
    const d = new ModelDownloads();
    const reader = d.count('s', 0, bytes(50)).getReader();
    expect((await reader.read()).value?.byteLength).toBe(49);
    await reader.cancel();
    expect(d.of('s', 0)).toEqual({ version: 0, downloads: 0, bytes: 49 });
  });
});
