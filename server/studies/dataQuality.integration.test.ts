import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { combineStatistics, siteStatistics } from '../../shared/fl/normalisation';
import { dataQualitySchema, type DataQuality } from '../../shared/protocol/dataQuality';
import type { Dashboard, JoinResult, StudySummary } from '../../shared/protocol/schemas';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRiskFeatures, type TabularRecord } from '../../shared/tasks';
import type { Database } from '../db/client';
import { siteStatistics as siteStatisticsTable, sites } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, nextEvent, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';
import { createStudy, enrolSite } from './service';

/**
 * The admin's view of each site's data: missing and out-of-range values per feature, from the
 * aggregate statistics the sites send when they first join, with a warning where a feature is
 * missing from most of a site's records.
 */
const STUDY = 'data-quality-test';
const [ALDRIC, NORTHFIELD, LATE] = demoHospitals;

/** Northfield's export: serum cholesterol recorded for one patient in ten, and a few values past the plausible 600 mg/dl. */
function northfieldRecords(): TabularRecord[] {
  return generateHeartRecords(NORTHFIELD).map((r, i) => ({ ...r, values: { ...r.values, chol: i % 10 !== 0 ? null : i % 30 === 0 ? 750 : (r.values.chol ?? 240) } }));
}

const count = (records: TabularRecord[], test: (v: number | null | undefined) => boolean, name: string) => records.filter((r) => test(r.values[name])).length;

describe.each(testDatabaseTargets())('per-site data quality ($name)', (target) => {
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

  const api = (path: string, headers: Record<string, string> = admin) => fetch(`${server.url}${path}`, { headers });
  const token = (siteId: string) => server.consilium.tokens.hospitalLink(siteId);

  async function join(siteId: string, datasetFingerprint?: string): Promise<{ socket: ClientSocket; joined: JoinResult }> {
    const socket = await connectSocket(server.url, { token: await token(siteId) });
    sockets.push(socket);
    const ack = await emitAck(socket, 'hospital:join', { studyId: STUDY, backend: 'cpu', ...(datasetFingerprint ? { datasetFingerprint } : {}) });
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, joined: ack.data as JoinResult };
  }

  it('gives the admin each site’s missing rates, a warning where a feature is mostly missing, and values out of range; a late site is listed without changing the normalisation', async () => {
    await target.reset(database);
    for (const h of demoHospitals) await database.db.insert(sites).values({ id: h.id, name: h.name });
    await createStudy(database.db, { id: STUDY, name: 'Data quality', templateId: 'heart-risk', config: { minParticipants: 2 } });
    for (const h of demoHospitals) await enrolSite(database.db, STUDY, h.id);
    server = await startServer(database);
    const { userId: _, ...headers } = await signIn(server);
    admin = headers;

    // Before any statistics: nothing to list.
    expect(await (await api(`/api/studies/${STUDY}/data-quality`)).json()).toMatchObject({ sites: [], warnings: [] });

    const records = { [ALDRIC.id]: generateHeartRecords(ALDRIC), [NORTHFIELD.id]: northfieldRecords(), [LATE.id]: generateHeartRecords(LATE) };
    const statsOf = (siteId: string) => siteStatistics(heartRiskFeatures, records[siteId]);

    // Two sites join and send their statistics: the study fixes its normalisation from them and opens round 1.
    const first = await join(ALDRIC.id);
    const second = await join(NORTHFIELD.id);
    expect(first.joined.statisticsNeeded).toBe(true);
    const opened = nextEvent(first.socket, 'round:open');
    for (const { socket } of [first, second]) {
      expect(await emitAck(socket, 'hospital:statistics', { studyId: STUDY, statistics: statsOf(socket === first.socket ? ALDRIC.id : NORTHFIELD.id) })).toEqual({ ok: true, data: { accepted: true } });
    }
    const fixed = (await opened).normalisation!;
    expect(fixed.sites).toBe(2);

    // Statistics counting more values out of range than values present are refused with the reason.
    const bogus = { ...statsOf(LATE.id), flagged: { chol: 10_000 } };
    const late = await join(LATE.id);
    expect(await emitAck(late.socket, 'hospital:statistics', { studyId: STUDY, statistics: bogus })).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/chol: 10000 values out of range among \d+ present/) },
    });

    // A site joining after the normalisation is fixed is still asked for its statistics, once: they are
    // stored for this view ("not accepted" into the normalisation), and the normalisation stays as it was.
    expect(late.joined.statisticsNeeded).toBe(true);
    expect(await emitAck(late.socket, 'hospital:statistics', { studyId: STUDY, statistics: statsOf(LATE.id) })).toEqual({ ok: true, data: { accepted: false } });
    const summary = (await (await api(`/api/studies/${STUDY}`)).json()) as StudySummary;
    expect(summary.normalisation).toEqual(fixed);
    // Two parts: the order they are added in cannot change a sum.
    expect(summary.normalisation).toEqual(combineStatistics(heartRiskFeatures, [ALDRIC.id, NORTHFIELD.id].map(statsOf)));
    expect(await database.db.select().from(siteStatisticsTable)).toHaveLength(3);
    // Sent once: joining again asks for nothing.
    late.socket.disconnect();
    const again = await join(LATE.id);
    expect(again.joined.statisticsNeeded).toBe(false);
    again.socket.disconnect();
    // The site imports another file: its join reports the new dataset, and it is asked again; the
    // statistics of that dataset replace the old ones, and the same dataset is not asked for twice.
    const [before, after] = ['a'.repeat(64), 'b'.repeat(64)];
    const withData = await join(LATE.id, before);
    expect(withData.joined.statisticsNeeded).toBe(true);
    expect(await emitAck(withData.socket, 'hospital:statistics', { studyId: STUDY, statistics: statsOf(LATE.id), datasetFingerprint: before })).toEqual({ ok: true, data: { accepted: false } });
    withData.socket.disconnect();
    expect((await join(LATE.id, before)).joined.statisticsNeeded).toBe(false);
    const reimported = await join(LATE.id, after);
    expect(reimported.joined.statisticsNeeded).toBe(true);
    expect(await emitAck(reimported.socket, 'hospital:statistics', { studyId: STUDY, statistics: statsOf(LATE.id), datasetFingerprint: after })).toEqual({ ok: true, data: { accepted: false } });
    expect(await database.db.select().from(siteStatisticsTable)).toHaveLength(3);
    expect((await join(LATE.id, after)).joined.statisticsNeeded).toBe(false);

    const res = await api(`/api/studies/${STUDY}/data-quality`);
    expect(res.status).toBe(200);
    const quality: DataQuality = dataQualitySchema.parse(await res.json());
    expect(quality.features.map((f) => f.label)).toEqual(heartRiskFeatures.map((f) => f.label));
    // The site with a warning first, then by name.
    expect(quality.sites.map((s) => s.siteName)).toEqual([NORTHFIELD.name, LATE.name, ALDRIC.name]);
    const north = quality.sites[0];
    const northRecords = records[NORTHFIELD.id];
    const missingChol = count(northRecords, (v) => v === null, 'chol');
    expect(north).toMatchObject({ siteId: NORTHFIELD.id, rows: northRecords.length });
    expect(north.features.chol).toEqual({ missing: missingChol, rate: missingChol / northRecords.length, flagged: count(northRecords, (v) => v === 750, 'chol') });
    expect(north.features.chol.rate).toBeGreaterThan(0.85);
    expect(north.features.chol.flagged).toBeGreaterThan(0);
    for (const s of quality.sites.slice(1)) {
      const own = records[s.siteId];
      expect(s.rows).toBe(own.length);
      expect(s.features.chol.missing).toBe(count(own, (v) => v === null, 'chol'));
      expect(s.features.chol.rate).toBeLessThan(0.05);
    }
    expect(quality.warnings).toEqual([
      {
        participantId: north.participantId,
        siteName: NORTHFIELD.name,
        feature: 'chol',
        missing: missingChol,
        rows: northRecords.length,
        rate: missingChol / northRecords.length,
        message: `Serum cholesterol is missing in ${Math.round((100 * missingChol) / northRecords.length)} % of the training records at ${NORTHFIELD.name} (${missingChol} of ${northRecords.length}): imputed, it mostly tells which site a record came from.`,
      },
    ]);
    // Aggregates only: no site's sums, let alone a row.
    expect(JSON.stringify(quality)).not.toMatch(/sumSquares|"sum"/);

    // The dashboard says when each site sent its statistics, so the console knows to fetch this view again.
    const dashboard = (await (await api(`/api/studies/${STUDY}/dashboard`)).json()) as Dashboard;
    expect(dashboard.participants.every((p) => typeof p.statisticsAt === 'string')).toBe(true);

    // Platform admins only.
    expect((await api(`/api/studies/${STUDY}/data-quality`, {})).status).toBe(401);
    expect((await api(`/api/studies/${STUDY}/data-quality`, { authorization: `Bearer ${await token(ALDRIC.id)}` })).status).toBe(403);
    const { userId: __, ...siteAdmin } = await signIn(server, { role: 'site_admin', siteId: ALDRIC.id });
    expect((await api(`/api/studies/${STUDY}/data-quality`, siteAdmin)).status).toBe(403);
    expect((await api('/api/studies/no-such-study/data-quality')).status).toBe(404);
  });
});
