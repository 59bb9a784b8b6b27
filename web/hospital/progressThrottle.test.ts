import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LatestThrottle } from './progressThrottle';

describe('LatestThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the first report at once, then at most one per interval, always the latest', () => {
    const sent: number[] = [];
    const t = new LatestThrottle<number>((v) => sent.push(v), 500);
    t.push(1);
    t.push(2);
    t.push(3);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(499);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1, 3]);
    vi.advanceTimersByTime(5_000);
    expect(sent).toEqual([1, 3]);
  });

  it('drops what is pending when cancelled', () => {
    const sent: number[] = [];
    const t = new LatestThrottle<number>((v) => sent.push(v), 500);
    t.push(1);
    t.push(2);
    t.cancel();
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([1]);
  });
});
