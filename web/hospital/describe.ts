/** An error as the activity log says it: its message, and its code where the server gave one. */
export function describe(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== 'network' ? `${message} (${code})` : message;
}

/** A figure worth showing: finite, else undefined. */
export const finite = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x : undefined);
