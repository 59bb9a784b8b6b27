import { demoHospitals } from '../../shared/synthetic/heart';
import { heartRisk } from '../../shared/tasks';
import type { Db } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';

export const DEMO_STUDY_ID = 'heart-demo';

export interface DemoOptions {
  rounds?: number;
  roundDeadlineMs?: number;
}

/**
 * The demo that `npm start` shows at once: three demo hospitals (each generates its own seeded,
 * non-IID dataset in the browser) enrolled in a heart-risk study. Idempotent: a restart changes nothing.
 */
export async function seedDemo(db: Db, opts: DemoOptions = {}) {
  for (const h of demoHospitals) {
    await db.insert(sites).values({ id: h.id, name: h.name, demoProfile: h.id }).onConflictDoNothing();
  }
  const study = await createStudy(db, {
    id: DEMO_STUDY_ID,
    name: 'Heart disease risk (demo)',
    templateId: heartRisk.id,
    config: {
      ...(opts.rounds ? { rounds: opts.rounds } : {}),
      ...(opts.roundDeadlineMs ? { roundDeadlineMs: opts.roundDeadlineMs } : {}),
      minParticipants: demoHospitals.length,
    },
  });
  for (const h of demoHospitals) await enrolSite(db, study.id, h.id);
  return { study, hospitals: demoHospitals.map((h) => ({ siteId: h.id, name: h.name })) };
}
