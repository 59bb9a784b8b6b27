import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoHospitals } from '../../shared/synthetic/heart';
import { lesionHospitals } from '../../shared/synthetic/lesions';
import { heartRisk, heartRiskV2, lesionImages } from '../../shared/tasks';
import type { Database } from '../db/client';
import { invites, sites, users } from '../db/schema';
import { createStudy, studiesOfSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { DEMO_STUDY_ID, LESION_DEMO_STUDY_ID, seedDemo } from './seed';

describe.each(testDatabaseTargets())('the demo seed ($name)', (target) => {
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

  it('keeps the heart study first, with its three hospitals, and adds the lesion study with five imaging sites', async () => {
    const demo = await seedDemo(database.db, { rounds: 2 });
    expect(demo.study).toMatchObject({ id: DEMO_STUDY_ID, templateId: heartRiskV2.id });
    expect(demo.hospitals.map((h) => h.siteId)).toEqual(demoHospitals.map((h) => h.id));
    expect(demo.studies.map((s) => s.study.id)).toEqual([DEMO_STUDY_ID, LESION_DEMO_STUDY_ID]);
    const [heart, lesions] = demo.studies;
    expect(heart.study.config).toMatchObject({ rounds: 2, minParticipants: 3, localEpochs: heartRisk.defaults.localEpochs });
    expect(lesions.study).toMatchObject({ templateId: lesionImages.id, name: 'Lesions on scans (demo)' });
    expect(lesions.study.config).toMatchObject({ rounds: 2, minParticipants: 2, localEpochs: lesionImages.defaults.localEpochs });
    expect(lesions.hospitals.map((h) => h.siteId)).toEqual(lesionHospitals.map((h) => h.id));
    // Each demo site is in one study, and generates that study's synthetic data from its profile.
    for (const h of [...heart.hospitals, ...lesions.hospitals]) {
      expect(await studiesOfSite(database.db, h.siteId)).toEqual([h.siteId.startsWith('lesion-') ? LESION_DEMO_STUDY_ID : DEMO_STUDY_ID]);
      const [site] = await database.db.select().from(sites).where(eq(sites.id, h.siteId));
      expect(site.demoProfile).toBe(h.siteId);
    }
  });

  it('seeds five heart hospitals when asked, a round closing at its deadline with all but one', async () => {
    const demo = await seedDemo(database.db, { heartHospitals: 5 });
    expect(demo.hospitals.map((h) => h.siteId)).toEqual([...demoHospitals.map((h) => h.id), 'hospital-westmoor', 'hospital-harbour']);
    expect(demo.study.config).toMatchObject({ minParticipants: 5, minUpdates: 4 });
    const [site] = await database.db.select().from(sites).where(eq(sites.id, 'hospital-harbour'));
    expect(site.demoProfile).toBe('hospital-harbour');
  });

  it('is idempotent, and takes the local epochs of both demo studies from its options', async () => {
    const first = await seedDemo(database.db, { localEpochs: 1 });
    const again = await seedDemo(database.db, { localEpochs: 3 });
    expect(again.studies.map((s) => s.study)).toEqual(first.studies.map((s) => s.study));
    expect(first.studies.map((s) => s.study.config.localEpochs)).toEqual([1, 1]);
    expect(await database.db.select().from(sites)).toHaveLength(demoHospitals.length + lesionHospitals.length);
    // The same staff accounts, so the printed sign-in links name the same people on every start.
    expect(again.studies.flatMap((s) => s.hospitals)).toEqual(first.studies.flatMap((s) => s.hospitals));
  });

  it('keeps the template a demo study was made with: a database seeded before version 2 stays on version 1', async () => {
    await createStudy(database.db, { id: DEMO_STUDY_ID, name: 'Heart disease risk (demo)', templateId: heartRisk.id, config: { minParticipants: 3 } });
    const demo = await seedDemo(database.db);
    expect(demo.study.templateId).toBe('heart-risk');
    const fresh = await seedDemo(database.db);
    expect(fresh.study.templateId).toBe('heart-risk');
  });

  it('makes each demo site and its staff account through a redeemed staff invite, as a real hospital enrols', async () => {
    const demo = await seedDemo(database.db);
    const all = demo.studies.flatMap((s) => s.hospitals);
    const staff = await database.db.select().from(users);
    expect(staff).toHaveLength(all.length);
    for (const h of all) expect(staff.find((u) => u.id === h.userId)).toMatchObject({ role: 'staff', siteId: h.siteId });
    const used = await database.db.select().from(invites);
    expect(used).toHaveLength(all.length);
    expect(used.every((i) => i.role === 'staff' && i.redeemedAt && i.redeemedBy && all.some((h) => h.userId === i.redeemedBy))).toBe(true);
  });
});
