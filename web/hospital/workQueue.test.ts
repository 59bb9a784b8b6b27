import { describe, expect, it, vi } from 'vitest';
import { WorkQueue } from './workQueue';

describe('WorkQueue', () => {
  it('runs jobs one at a time in order, and a failed job does not stop the next', async () => {
    const q = new WorkQueue();
    const events: string[] = [];
    let running = 0;
    const job = (name: string, fail = false) => async () => {
      running++;
      expect(running).toBe(1);
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
    };
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    q.enqueue(job('train 1', true));
    q.enqueue(job('evaluate 1'));
    q.enqueue(job('train 2'));
    expect(q.size).toBe(3);
    await vi.waitFor(() => expect(q.size).toBe(0));
    expect(events).toEqual(['start train 1', 'end train 1', 'start evaluate 1', 'end evaluate 1', 'start train 2', 'end train 2']);
    expect(error).toHaveBeenCalledTimes(1);
    error.mockRestore();
  });
});
