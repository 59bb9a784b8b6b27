import { describe, expect, it, vi } from 'vitest';
import type { Db } from '../db/client';
import { createMetrics } from './metrics';
import { isLoopback } from './routes';

/** A database that no longer answers. */
const down = {
  select() {
    throw new Error('connection refused');
  },
} as unknown as Db;

describe('the metrics', () => {
  it('still answer a scrape when the database does not: the rounds are left out, not reported as zero', async () => {
    const warn = vi.fn();
    const metrics = createMetrics({ db: down, presence: { connectedSites: () => 3 }, log: { warn }, defaultMetrics: false });
    const text = await metrics.exposition();
    expect(text).toMatch(/^consilium_connected_sites 3$/m);
    expect(text).not.toMatch(/^consilium_rounds\{/m);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'metrics: could not count the rounds');
  });

  it('label a refusal by its error code only, anything else as other, and count each app apart', async () => {
    const a = createMetrics({ db: down, presence: { connectedSites: () => 0 }, defaultMetrics: false });
    const b = createMetrics({ db: down, presence: { connectedSites: () => 0 }, defaultMetrics: false });
    a.uploadRefused('update_norm_exceeded');
    a.uploadRefused('the update was bad: patient 12 said…');
    a.uploadAccepted();
    const text = await a.exposition();
    expect(text).toMatch(/^consilium_uploads_total\{outcome="refused",reason="update_norm_exceeded"\} 1$/m);
    expect(text).toMatch(/^consilium_uploads_total\{outcome="refused",reason="other"\} 1$/m);
    expect(text).toMatch(/^consilium_uploads_total\{outcome="accepted"\} 1$/m);
    expect(await b.exposition()).toMatch(/^consilium_uploads_total\{outcome="accepted"\} 0$/m);
  });

  it('serve Node’s process metrics once for the process, with every app’s own', async () => {
    const [a, b] = [0, 1].map(() => createMetrics({ db: down, presence: { connectedSites: () => 0 } }));
    for (const m of [a, b]) expect((await m.exposition()).match(/^# TYPE process_resident_memory_bytes gauge$/gm)).toHaveLength(1);
    expect(a.registry.getSingleMetric('process_resident_memory_bytes')).toBeUndefined();
  });
});

describe('a loopback address', () => {
  it('is 127.0.0.0/8 or ::1, plain or IPv4-mapped', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of [undefined, '', '10.0.0.1', '::', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', '1127.0.0.1']) expect(isLoopback(a)).toBe(false);
  });
});
