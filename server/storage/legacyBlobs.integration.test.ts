import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { heartRisk, initialWeights, weightShapes } from '../../shared/tasks';
import { decodeWeights, encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { modelVersions, participants, rounds, sites, studies, updates } from '../db/schema';
import { sha256Hex } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { moveLegacyBlobs } from './legacyBlobs';

/** A database from before the blob store: bytes in bytea columns, moved out at start. */
describe.each(testDatabaseTargets())('moving bytes stored in the database into the blob store ($name)', (target) => {
  let database: Database;
  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
  });

  it('moves every update payload, model and server state, clears the columns, and is idempotent', async () => {
    const { db, blobs } = database;
    const shapes = weightShapes(heartRisk.model);
    const weights = encodeWeights({ kind: 'model', meta: { studyId: 'old' }, tensors: initialWeights(heartRisk.model, 1).map((data, i) => ({ shape: shapes[i].shape, data })) });
    const update = encodeWeights({ kind: 'update', meta: { studyId: 'old', round: 1 }, tensors: shapes.map(({ shape }) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) })) });
    const state = new Uint8Array([1, 2, 3, 4]);
    await db.insert(sites).values({ id: 'site-a', name: 'A' });
    await db.insert(studies).values({ id: 'old', name: 'Old', templateId: heartRisk.id, config: heartRisk.defaults });
    await db.insert(participants).values({ id: 'p-a', studyId: 'old', siteId: 'site-a' });
    await db.insert(modelVersions).values({ studyId: 'old', version: 0, weights, serverState: state, sha256: sha256Hex(weights) });
    const [round] = await db
      .insert(rounds)
      .values({ studyId: 'old', number: 1, status: 'closed', baseVersion: 0, sampled: ['p-a'], deadline: new Date(), openedAt: new Date() })
      .returning();
    await db.insert(updates).values({ roundId: round.id, participantId: 'p-a', idempotencyKey: 'key-old-1', numSamples: 10, backend: 'cpu', payload: update });

    expect(await moveLegacyBlobs(db, blobs)).toBe(2);
    const [v] = await db.select().from(modelVersions).where(eq(modelVersions.studyId, 'old'));
    expect(v.weights).toBeNull();
    expect(v.serverState).toBeNull();
    expect(v.sha256).toBe(sha256Hex(weights));
    expect(await blobs.read(v.sha256)).toEqual(weights);
    expect(await blobs.read(v.serverStateSha256!)).toEqual(state);
    const [u] = await db.select().from(updates);
    expect(u.payload).toBeNull();
    expect(u.payloadBytes).toBe(update.length);
    // The data offset lets a fold read the values straight from the stored bytes.
    const values = new Float32Array(4);
    await blobs.readRange(u.payloadSha256!, u.payloadDataOffset!, new Uint8Array(values.buffer));
    expect([...values]).toEqual([...decodeWeights(update).tensors[0].data.subarray(0, 4)]);
    expect(await moveLegacyBlobs(db, blobs)).toBe(0);
  });
});
