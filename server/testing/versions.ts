import { heartRisk, initialWeights, weightShapes } from '../../shared/tasks';
import { encodeWeights } from '../../shared/weights/codec';
import type { Db } from '../db/client';
import { modelVersions } from '../db/schema';
import { sha256Hex } from '../studies/service';

/**
 * Stores version `version` of a heart-risk study as its round would have written it (parent
 * `version − 1`, made in round `version`), with seeded weights; returns them.
 */
export async function storeHeartVersion(db: Db, studyId: string, version: number, seed: number): Promise<Float32Array[]> {
  const shapes = weightShapes(heartRisk.model);
  const weights = initialWeights(heartRisk.model, seed);
  const bytes = encodeWeights({ kind: 'model', meta: { studyId, version }, tensors: weights.map((data, i) => ({ shape: shapes[i].shape, data })) });
  await db.insert(modelVersions).values({ studyId, version, parentVersion: version - 1, roundNumber: version, weights: bytes, sha256: sha256Hex(bytes) });
  return weights;
}
