import { demoHospitals } from '../../shared/synthetic/heart';
import { lesionHospitals } from '../../shared/synthetic/lesions';
import { heartRisk, lesionImages } from '../../shared/tasks';
import type { StudySummary } from '../../shared/protocol/schemas';
import type { Db } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';

export const DEMO_STUDY_ID = 'heart-demo';
export const LESION_DEMO_STUDY_ID = 'lesion-demo';

/** Lesion demo hospitals online before a round opens: two tabs are enough to see an image study run. */
const LESION_MIN_PARTICIPANTS = 2;

export interface DemoOptions {
  rounds?: number;
  roundDeadlineMs?: number;
  /** Local epochs per round; each template's default when unset. */
  localEpochs?: number;
}

export interface DemoStudy {
  study: StudySummary;
  hospitals: { siteId: string; name: string }[];
}

/**
 * The demo that `npm start` shows at once: three demo hospitals (each generates its own seeded,
 * non-IID dataset in the browser) enrolled in a heart-risk study, and, as a second study, five
 * imaging centres that generate their own synthetic scans for the lesion CNN. Each demo site takes
 * part in one study, so its link opens straight onto it. Idempotent: a restart changes nothing.
 * `study` and `hospitals` are the heart study's; `studies` lists both, heart first.
 */
export async function seedDemo(db: Db, opts: DemoOptions = {}): Promise<DemoStudy & { studies: DemoStudy[] }> {
  const common = {
    ...(opts.rounds ? { rounds: opts.rounds } : {}),
    ...(opts.roundDeadlineMs ? { roundDeadlineMs: opts.roundDeadlineMs } : {}),
    ...(opts.localEpochs ? { localEpochs: opts.localEpochs } : {}),
  };
  const heart = await seedStudy(db, {
    id: DEMO_STUDY_ID,
    name: 'Heart disease risk (demo)',
    templateId: heartRisk.id,
    config: { ...common, minParticipants: demoHospitals.length },
    hospitals: demoHospitals,
  });
  const lesions = await seedStudy(db, {
    id: LESION_DEMO_STUDY_ID,
    name: 'Lesions on scans (demo)',
    templateId: lesionImages.id,
    config: { ...common, minParticipants: LESION_MIN_PARTICIPANTS },
    hospitals: lesionHospitals,
  });
  return { ...heart, studies: [heart, lesions] };
}

async function seedStudy(
  db: Db,
  s: { id: string; name: string; templateId: string; config: Parameters<typeof createStudy>[1]['config']; hospitals: { id: string; name: string }[] },
): Promise<DemoStudy> {
  for (const h of s.hospitals) {
    await db.insert(sites).values({ id: h.id, name: h.name, demoProfile: h.id }).onConflictDoNothing();
  }
  const study = await createStudy(db, { id: s.id, name: s.name, templateId: s.templateId, config: s.config });
  for (const h of s.hospitals) await enrolSite(db, study.id, h.id);
  return { study, hospitals: s.hospitals.map((h) => ({ siteId: h.id, name: h.name })) };
}
