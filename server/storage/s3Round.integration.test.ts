import { PGlite } from '@electric-sql/pglite';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHospitals } from '../../shared/synthetic';
import { openDatabase, type Database } from '../db/client';
import { modelVersions, updates } from '../db/schema';
import { testDatabaseTargets, type TestDatabaseTarget } from '../testing/databases';
import { nextEvent } from '../testing/harness';
import { heartShapes, startHeartStudy, uploadDelta, type HeartStudy } from '../testing/heartStudy';
import { startS3Server, type TestS3Server } from '../testing/s3Server';
import { S3BlobStore } from './s3BlobStore';

/**
 * A whole round with the server's blob store on S3-compatible object storage (a real s3rver): updates
 * stream into the bucket, the round's sum is folded from ranged GETs (the store has no synchronous
 * read), and the new model version lands in the bucket, where another machine's client finds it.
 */
const STUDY = 'heart-on-s3';
const HOSPITALS = demoHospitals.slice(0, 2);
const RECORDS = [200, 300];
const small = (k: number) => heartShapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.01));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('a round with the blob store on S3-compatible object storage', () => {
  let s3: TestS3Server;
  let database: Database;
  let study: HeartStudy;
  const pglite = testDatabaseTargets().find((t) => t.name === 'pglite')!;

  beforeAll(async () => {
    s3 = await startS3Server();
    const target: TestDatabaseTarget = { ...pglite, open: () => openDatabase({ pglite: new PGlite(), blobs: s3.store('consilium/') }) };
    database = await target.open();
    study = await startHeartStudy(target, database, { studyId: STUDY, hospitals: HOSPITALS, records: RECORDS, config: { rounds: 2 } });
  }, 60_000);
  afterAll(async () => {
    await study?.stop();
    await database?.close();
    await s3?.dispose();
  });

  it('stores the updates and the new model version in the bucket, and serves the version from there', async () => {
    expect(database.blobs).toBeInstanceOf(S3BlobStore);
    expect(database.blobs.readRangeSync).toBeUndefined();
    const closed = nextEvent(study.sockets[0], 'round:closed');
    for (const k of [0, 1]) expect((await uploadDelta(study, STUDY, k, { round: 1, baseVersion: 0, numSamples: RECORDS[k] }, small(k))).status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: 2 });
    await study.server.consilium.coordinator.settle();

    const res = await fetch(`${study.server.url}/api/studies/${STUDY}/models/1`, { headers: { authorization: `Bearer ${await study.token(0)}` } });
    expect(res.status).toBe(200);
    const served = new Uint8Array(await res.arrayBuffer());

    // Another process's view of the bucket: a fresh client with the same settings.
    const elsewhere = s3.store('consilium/');
    try {
      const versions = await database.db.select({ version: modelVersions.version, sha256: modelVersions.sha256 }).from(modelVersions);
      const v1 = versions.find((v) => v.version === 1)!;
      expect(res.headers.get('etag')).toBe(`"${v1.sha256}"`);
      expect(sha(served)).toBe(v1.sha256);
      const inBucket = await elsewhere.list();
      for (const v of versions) expect(inBucket).toContain(v.sha256);
      expect(sha(await elsewhere.read(v1.sha256))).toBe(v1.sha256);
      expect(await elsewhere.size(v1.sha256)).toBe(served.byteLength);
      // The round's update payloads went through the bucket and, their version written, were deleted from it.
      const payloads = (await database.db.select({ sha256: updates.payloadSha256 }).from(updates)).map((u) => u.sha256);
      expect(payloads.filter(Boolean)).toHaveLength(2);
      for (const p of payloads) expect(inBucket).not.toContain(p);
    } finally {
      await elsewhere.close();
    }
  });
});
