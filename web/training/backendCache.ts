import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BackendName } from '../../shared/protocol';
import type { BackendFigure } from './backendChoice';

/**
 * The measured backend choice, kept per device and model in IndexedDB (a worker has no
 * localStorage), so only a tab's first join on this browser pays for the measurement.
 */

export interface CachedChoice {
  chosen: BackendName;
  figures: BackendFigure[];
  measuredAt: string;
}

interface ChoiceDb extends DBSchema {
  choices: { key: string; value: CachedChoice };
}

let db: Promise<IDBPDatabase<ChoiceDb>> | null = null;
const open = () =>
  (db ??= openDB<ChoiceDb>('consilium-backend-choice', 1, {
    upgrade(d) {
      d.createObjectStore('choices');
    },
  }));

/** The cached choice, or null (none, or IndexedDB unavailable: then the tab simply measures again). */
export async function readChoice(key: string): Promise<CachedChoice | null> {
  try {
    return (await (await open()).get('choices', key)) ?? null;
  } catch {
    return null;
  }
}

export async function writeChoice(key: string, choice: CachedChoice): Promise<void> {
  try {
    await (await open()).put('choices', choice, key);
  } catch {
    // A cache that cannot be written only costs the next tab a measurement.
  }
}

export async function forgetChoice(key: string): Promise<void> {
  try {
    await (await open()).delete('choices', key);
  } catch {
    // as above
  }
}
