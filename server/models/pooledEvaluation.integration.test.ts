import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auroc } from '../../shared/metrics/binary';
import { binaryClinicalMetrics } from '../../shared/metrics/clinical';
import type { ModelVersionView, VersionEvaluation } from '../../shared/protocol/models';
import { allHeartDemoHospitals } from '../../shared/synthetic';
import { mulberry32, normal } from '../../shared/synthetic/rng';
import type { Database } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

/**
 * Two hospitals report version 0 over Socket.IO with their score histograms: the console's pooled
 * AUROC is that of their pooled validation scores, within the bin width, where the sample-weighted
 * mean of their own AUROCs is not; a histogram that disagrees with its report is refused.
 */
const STUDY = 'pooled-auroc';
const HOSPITALS = allHeartDemoHospitals.slice(0, 3);
const RECORDS = 400;

/** A site's scores: its prevalence and its shift of the score scale. */
function scores(seed: number, n: number, prevalence: number, shift: number) {
  const rand = mulberry32(seed);
  const gauss = normal(rand);
  const labels = Array.from({ length: n }, () => (rand() < prevalence ? 1 : 0));
  const probs = labels.map((y) => Math.fround(1 / (1 + Math.exp(-(shift + (y ? 1.5 : 0) + gauss())))));
  return { probs, labels };
}

const reportOf = (m: ReturnType<typeof binaryClinicalMetrics>) => ({ studyId: STUDY, version: 0, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend: 'cpu' as const, clinical: m });

describe.each(testDatabaseTargets())('pooled evaluation from score histograms ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let sockets: ClientSocket[] = [];
  let admin: Record<string, string>;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  afterEach(async () => {
    for (const s of sockets) s.disconnect();
    sockets = [];
    await server?.stop();
  });

  async function start() {
    await target.reset(database);
    for (const h of HOSPITALS) await database.db.insert(sites).values({ id: h.id, name: h.name });
    await createStudy(database.db, { id: STUDY, name: 'Pooled AUROC', templateId: 'heart-risk', config: { minParticipants: 5 } });
    for (const h of HOSPITALS) await enrolSite(database.db, STUDY, h.id);
    server = await startServer(database);
    const { userId: _, ...headers } = await signIn(server);
    admin = headers;
    for (const h of HOSPITALS) {
      const s = await connectSocket(server.url, { token: await server.consilium.tokens.hospitalLink(h.id) });
      sockets.push(s);
      expect(await emitAck(s, 'hospital:join', { studyId: STUDY, numSamples: RECORDS, backend: 'cpu' })).toMatchObject({ ok: true });
    }
  }

  const get = async <T>(path: string) => (await (await fetch(`${server.url}/api/studies/${STUDY}${path}`, { headers: admin })).json()) as T;

  it('gives the AUROC of the pooled scores, the pooled ROC and reliability, and each site\'s own', async () => {
    await start();
    // A low-prevalence site that scores low, a high-prevalence one that scores high, and one with no positive case.
    const a = scores(1, 90, 0.15, -1.2);
    const b = scores(2, 80, 0.55, 0.9);
    const c = scores(3, 40, 0, -0.5);
    const [ma, mb, mc] = [a, b, c].map((s) => binaryClinicalMetrics(s.probs, s.labels));
    for (const [k, m] of [ma, mb, mc].entries()) expect(await emitAck(sockets[k], 'hospital:evaluation', reportOf(m))).toMatchObject({ ok: true });

    const exact = auroc([...a.probs, ...b.probs, ...c.probs], [...a.labels, ...b.labels, ...c.labels]);
    const ev = await get<VersionEvaluation>('/versions/0/evaluation');
    expect(ev).toMatchObject({ aurocMethod: 'histogram', withoutHistogram: 0, global: { kind: 'binary', numSamples: 210 } });
    expect(Math.abs(ev.auroc! - exact)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(ev.auroc! - exact)).toBeLessThanOrEqual(ev.aurocMaxError! + 1e-12);
    expect(ev.global!.kind === 'binary' && ev.global!.auroc).toBe(ev.auroc);
    // What the old pooling said: the sample-weighted mean of the sites' AUROCs (the one-class site's 0.5 included).
    const mean = (ma.auroc * 90 + mb.auroc * 80 + mc.auroc * 40) / 210;
    expect(Math.abs(mean - exact)).toBeGreaterThan(0.05);

    const [roc] = ev.curves!.roc;
    expect(roc).toMatchObject({ positiveClass: 1, positives: ma.confusion.tp + ma.confusion.fn + mb.confusion.tp + mb.confusion.fn, auroc: ev.auroc });
    expect(roc.points[0]).toEqual({ threshold: 1, fpr: 0, tpr: 0 });
    expect(roc.points.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    expect(ev.curves!.reliability.reduce((s, r) => s + r.count, 0)).toBe(210);
    expect(ev.curves!.riskReliability!.reduce((s, r) => s + r.count, 0)).toBe(210);

    // Per site: its own metrics (without the raw histogram) and curves; no ROC where one class is missing.
    const byCount = new Map(ev.sites.map((s) => [s.numSamples, s]));
    expect(byCount.get(90)).toMatchObject({ histogram: true, clinical: { auroc: ma.auroc }, curves: { roc: [{ positiveClass: 1 }] } });
    expect(Math.abs(byCount.get(90)!.curves!.auroc! - ma.auroc)).toBeLessThanOrEqual(byCount.get(90)!.curves!.aurocMaxError! + 1e-12);
    expect(byCount.get(40)!.curves!.roc[0]).toMatchObject({ auroc: null, points: [], positives: 0, negatives: 40 });
    expect(ev.sites.every((s) => s.clinical && !('histogram' in s.clinical))).toBe(true);

    const versions = await get<ModelVersionView[]>('/versions');
    expect(versions.find((v) => v.version === 0)).toMatchObject({ auroc: ev.auroc, aurocMethod: 'histogram', aurocMaxError: ev.aurocMaxError, clinical: ev.global });
    expect(versions.find((v) => v.version === 0)!.clinical).not.toHaveProperty('histogram');
  });

  it('refuses a histogram that disagrees with its report, and falls back to the weighted mean, saying so, when a site sends none', async () => {
    await start();
    const a = scores(4, 90, 0.3, 0);
    const ma = binaryClinicalMetrics(a.probs, a.labels);
    const moved = { ...ma.histogram!, positive: ma.histogram!.positive.slice(1) };
    expect(await emitAck(sockets[0], 'hospital:evaluation', reportOf({ ...ma, histogram: moved }))).toMatchObject({
      ok: false,
      error: { code: 'implausible_report', message: expect.stringMatching(/score histograms count 8\d samples, the report 90/) },
    });
    const beyond = { ...ma.histogram!, negative: [...ma.histogram!.negative.slice(0, -1), [1000, ma.histogram!.negative.at(-1)![1]] as [number, number]] };
    expect(await emitAck(sockets[0], 'hospital:evaluation', reportOf({ ...ma, histogram: beyond }))).toMatchObject({
      ok: false,
      error: { code: 'implausible_report', message: expect.stringMatching(/histogram of label 0 has bin 1000, outside its 1000 bins/) },
    });
    expect(await emitAck(sockets[0], 'hospital:evaluation', reportOf(ma))).toMatchObject({ ok: true });
    const b = scores(5, 70, 0.4, 0.5);
    const mb = binaryClinicalMetrics(b.probs, b.labels, { histogram: false });
    expect(await emitAck(sockets[1], 'hospital:evaluation', reportOf(mb))).toMatchObject({ ok: true });

    const ev = await get<VersionEvaluation>('/versions/0/evaluation');
    expect(ev).toMatchObject({ aurocMethod: 'weighted-mean', aurocMaxError: null, withoutHistogram: 1 });
    expect(ev.auroc).toBeCloseTo((ma.auroc * 90 + mb.auroc * 70) / 160, 12);
    expect(ev.curves!.roc).toEqual([]);
    expect(ev.sites.map((s) => s.histogram).sort()).toEqual([false, true]);
  });
});
