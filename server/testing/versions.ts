import { heartRisk, initialWeights, weightShapes } from '../../shared/tasks';
import { encodeWeights } from '../../shared/weights/codec';
import { blobsOf, type Db } from '../db/client';
import { modelVersions } from '../db/schema';

/**
 * Stores version `version` of a heart-risk study as its round would have written it (parent
 * `version − 1`, made in round `version`), with seeded weights; returns them.
 */
export async function storeHeartVersion(db: Db, studyId: string, version: number, seed: number): Promise<Float32Array[]> {
  const shapes = weightShapes(heartRisk.model);
  const weights = initialWeights(heartRisk.model, seed);
  const bytes = encodeWeights({ kind: 'model', meta: { studyId, version }, tensors: weights.map((data, i) => ({ shape: shapes[i].shape, data })) });
  const stored = await blobsOf(db).put(bytes);
  await db.insert(modelVersions).values({ studyId, version, parentVersion: version - 1, roundNumber: version, sha256: stored.sha256, weightsBytes: stored.bytes });
  return weights;
}
