/** The browser's storage for this origin: persistence and quota (StorageManager; secure contexts only). */
export interface StorageStatus {
  /** null where the browser cannot tell. */
  persisted: boolean | null;
  usage: number | null;
  quota: number | null;
}

const manager = (): StorageManager | undefined => (typeof navigator !== 'undefined' ? navigator.storage : undefined);

export async function storageStatus(): Promise<StorageStatus> {
  const m = manager();
  const [persisted, estimate] = await Promise.all([
    m?.persisted ? m.persisted().catch(() => null) : Promise.resolve(null),
    m?.estimate ? m.estimate().catch(() => null) : Promise.resolve(null),
  ]);
  return { persisted, usage: estimate?.usage ?? null, quota: estimate?.quota ?? null };
}

/** Asks the browser not to evict this site's data under storage pressure; true when granted. */
export async function requestPersistence(): Promise<boolean> {
  const m = manager();
  if (!m?.persist) return false;
  return m.persist().catch(() => false);
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
