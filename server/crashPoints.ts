/**
 * Named points where a test can make the server die as a crash would (SIGKILL: no shutdown code, no
 * flush, the open transaction cut off). `CONSILIUM_TEST_CRASH_AT=<point>[:<n>]` kills the process the
 * n-th time (default the first) it reaches that point; unset, every point is a no-op.
 */
export type CrashPoint = 'update-stored' | 'update-accepted' | 'aggregation-tx';

const spec = process.env.CONSILIUM_TEST_CRASH_AT?.trim() || null;
const reached = new Map<CrashPoint, number>();

export function crashPoint(point: CrashPoint): void {
  if (!spec) return;
  const [target, nth = '1'] = spec.split(':');
  if (target !== point) return;
  const count = (reached.get(point) ?? 0) + 1;
  reached.set(point, count);
  if (count === Number(nth)) process.kill(process.pid, 'SIGKILL');
}
