import { and, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { modelVersions, updates } from '../db/schema';
import { parseHeader } from '../../shared/weights/codec';
import type { BlobStore } from './blobStore';

/**
 * Databases from before the blob store kept update payloads, model weights and server state as
 * bytea values. At start they are copied into the store (durably) and then cleared, one row at a
 * time, so a crash part-way leaves every row readable one way or the other.
 */
export async function moveLegacyBlobs(db: Db, blobs: BlobStore): Promise<number> {
  let moved = 0;
  for (;;) {
    const [row] = await db
      .select({ id: updates.id, payload: updates.payload })
      .from(updates)
      .where(isNotNull(updates.payload))
      .limit(1);
    if (!row?.payload) break;
    const stored = await blobs.put(row.payload);
    await db.update(updates).set({ payloadSha256: stored.sha256, payloadBytes: stored.bytes, payloadDataOffset: parseHeader(row.payload)?.dataOffset ?? null, payload: null }).where(eq(updates.id, row.id));
    moved++;
  }
  for (;;) {
    const [row] = await db
      .select({ studyId: modelVersions.studyId, version: modelVersions.version, weights: modelVersions.weights, serverState: modelVersions.serverState })
      .from(modelVersions)
      .where(isNotNull(modelVersions.weights))
      .limit(1);
    if (!row?.weights) break;
    const weights = await blobs.put(row.weights);
    const state = row.serverState ? await blobs.put(row.serverState) : null;
    await db
      .update(modelVersions)
      .set({ sha256: weights.sha256, weightsBytes: weights.bytes, serverStateSha256: state?.sha256 ?? null, weights: null, serverState: null })
      .where(and(eq(modelVersions.studyId, row.studyId), eq(modelVersions.version, row.version)));
    moved++;
  }
  return moved;
}
