/**
 * The training worker's memory budget as the hospital link may set it (`?memoryBudgetMb=`, in MiB):
 * a dataset whose encoded samples exceed it streams from IndexedDB instead of being loaded whole.
 */
const MIB = 2 ** 20;

/** Bytes from the query value; undefined (the worker's default) when it is absent or not a positive number. */
export function memoryBudgetFromQuery(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const mib = Number(value);
  return Number.isFinite(mib) && mib > 0 ? Math.max(1, Math.round(mib * MIB)) : undefined;
}

/** A budget in MiB as a person reads it: `256`, `0.01`, `1.5`. */
export function mebibytes(bytes: number): string {
  return String(Number((bytes / MIB).toPrecision(3)));
}
