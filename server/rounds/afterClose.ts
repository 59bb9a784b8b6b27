import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { weightShapes } from '../../shared/tasks';
import { blobsOf, type Db } from '../db/client';
import { rounds, studies, updates } from '../db/schema';
import { templateOf } from '../studies/service';
import { rebuildSum, roundUpdates, totalWeight, type RoundUpdate } from './aggregation';
import { forEachStretch } from './payloads';
import type { CoordinatorDeps } from './types';

/**
 * What a round's close leaves for afterwards, off the critical path: each update's distance to the
 * round's combined update (for the report), then the payloads' deletion once no replay can need
 * them, keeping the latest `keepUpdateRounds` closed rounds' payloads for audits.
 */
export async function measureDistances(db: Db, roundId: number, mean: readonly Float64Array[], list: readonly RoundUpdate[]): Promise<void> {
  const blobs = blobsOf(db);
  const flat = flatten(mean);
  const distances: number[] = [];
  for (const u of list) {
    let s = 0;
    const scale = u.clipScale;
    await forEachStretch(blobs, u, (off, v) => {
      for (let i = 0; i < v.length; i++) {
        // Clipped as the aggregate saw it (float32, as `scaleTensors` rounds).
        const x = scale === 1 ? v[i] : Math.fround(v[i] * scale);
        const e = x - flat[off + i];
        s += e * e;
      }
    });
    distances.push(Math.sqrt(s));
  }
  const [row] = await db.select({ report: rounds.aggregationReport }).from(rounds).where(eq(rounds.id, roundId));
  if (!row?.report) return;
  const byLabel = new Map(list.map((u, i) => [u.label, distances[i]]));
  const report = { ...row.report, updates: row.report.updates.map((u) => ({ ...u, distance: u.distance ?? byLabel.get(u.participantId) ?? null })) };
  await db.update(rounds).set({ aggregationReport: report }).where(eq(rounds.id, roundId));
}

/**
 * Deletes the payloads of the study's ended rounds beyond the latest `keep`, then marks their rows.
 * A payload shared with an update still kept (the same bytes sent twice) stays.
 */
export async function pruneUpdates(db: Db, studyId: string, keep: number, upTo?: number): Promise<number> {
  const blobs = blobsOf(db);
  const ended = await db
    .select({ id: rounds.id, number: rounds.number })
    .from(rounds)
    .where(and(eq(rounds.studyId, studyId), inArray(rounds.status, ['closed', 'abandoned'])))
    .orderBy(desc(rounds.number));
  // `upTo`: rounds that ended later are left to their own close's work (their distances are measured first).
  if (upTo !== undefined) ended.splice(0, ended.length, ...ended.filter((r, i) => i < keep || r.number <= upTo));
  const prune = ended.slice(keep).map((r) => r.id);
  if (prune.length === 0) return 0;
  // Marked first, in one statement; then each blob goes unless an update still kept names the same bytes.
  const marked = await db
    .update(updates)
    .set({ payloadDeletedAt: new Date() })
    .where(and(inArray(updates.roundId, prune), isNull(updates.payloadDeletedAt)))
    .returning({ sha256: updates.payloadSha256 });
  const hashes = [...new Set(marked.flatMap((r) => (r.sha256 ? [r.sha256] : [])))];
  if (hashes.length === 0) return 0;
  const stillKept = new Set(
    (await db.select({ sha256: updates.payloadSha256 }).from(updates).where(and(inArray(updates.payloadSha256, hashes), isNull(updates.payloadDeletedAt)))).map(
      (r) => r.sha256,
    ),
  );
  let deleted = 0;
  for (const h of hashes)
    if (!stillKept.has(h)) {
      await blobs.delete(h);
      deleted++;
    }
  return deleted;
}

/**
 * After a restart: closed rounds whose report still lacks distances (the server stopped between the
 * close and the measurement) get them, and payloads due for deletion go.
 */
export async function resumeAfterClose(deps: CoordinatorDeps, studyId: string): Promise<void> {
  const { db } = deps;
  const [study] = await db.select({ templateId: studies.templateId }).from(studies).where(eq(studies.id, studyId));
  if (!study) return;
  const lengths = weightShapes(templateOf(study.templateId).model).map((w) => w.shape.reduce((a, b) => a * b, 1));
  const closed = await db
    .select()
    .from(rounds)
    .where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'closed')))
    .orderBy(desc(rounds.number));
  for (const r of closed) {
    if (!r.aggregationReport?.updates.some((u) => u.distance === null) || !r.bounds) continue;
    const kept = await db.select({ id: updates.id }).from(updates).where(and(eq(updates.roundId, r.id), isNull(updates.payloadDeletedAt)));
    let list: RoundUpdate[];
    try {
      list = await roundUpdates(db, r.id, r.bounds);
    } catch {
      continue;
    }
    if (list.length === 0 || kept.length !== list.length) continue;
    try {
      const sum = await rebuildSum(blobsOf(db), lengths, r.bounds, list);
      await measureDistances(db, r.id, sum.mean(totalWeight(list)), list);
    } catch (err) {
      deps.log.warn({ err, roundId: r.id }, 'could not measure the distances of a closed round');
    }
  }
  // Only the rounds seen ended above: one that ends meanwhile is pruned by its own close, after its measurement.
  await pruneUpdates(db, studyId, deps.keepUpdateRounds ?? 0, closed[0]?.number ?? 0);
}

function flatten(tensors: readonly Float64Array[]): Float64Array {
  if (tensors.length === 1) return tensors[0];
  const out = new Float64Array(tensors.reduce((a, t) => a + t.length, 0));
  let off = 0;
  for (const t of tensors) {
    out.set(t, off);
    off += t.length;
  }
  return out;
}
