import { heartDemoHospitals } from '../../shared/synthetic/heart';
import { lesionHospitals } from '../../shared/synthetic/lesions';
import { heartRiskV2, lesionImages } from '../../shared/tasks';
import type { StudySummary } from '../../shared/protocol/schemas';
import { eq } from 'drizzle-orm';
import { generatePassword } from '../auth/accounts';
import { createInvite, redeemInvite } from '../auth/invites';
import { systemClock, type Clock } from '../clock';
import type { Db } from '../db/client';
import { sites, users } from '../db/schema';
import { createSite } from '../sites/service';
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
  /**
   * Hospitals in the heart study, 3 (the default) to 5. With more than three, a round still opens
   * only with all of them online, but closes at its deadline with all but one.
   */
  heartHospitals?: number;
}

export interface DemoStudy {
  study: StudySummary;
  /** Each demo hospital with the staff account its printed sign-in link signs in as. */
  hospitals: { siteId: string; name: string; userId: string }[];
}

/** The demo staff account of a demo site. */
export const demoStaffEmail = (siteId: string) => `staff@${siteId}.demo.consilium.local`;

/**
 * The demo that `npm start` shows at once: three demo hospitals (each generates its own seeded,
 * non-IID dataset in the browser) enrolled in a heart-risk study, and, as a second study, five
 * imaging centres that generate their own synthetic scans for the lesion CNN. Each demo site takes
 * part in one study, so its link opens straight onto it. Idempotent: a restart changes nothing.
 * `study` and `hospitals` are the heart study's; `studies` lists both, heart first.
 */
export async function seedDemo(db: Db, opts: DemoOptions = {}, clock: Clock = systemClock): Promise<DemoStudy & { studies: DemoStudy[] }> {
  const common = {
    ...(opts.rounds ? { rounds: opts.rounds } : {}),
    ...(opts.roundDeadlineMs ? { roundDeadlineMs: opts.roundDeadlineMs } : {}),
    ...(opts.localEpochs ? { localEpochs: opts.localEpochs } : {}),
  };
  const heartSites = heartDemoHospitals(opts.heartHospitals);
  const heart = await seedStudy(db, {
    id: DEMO_STUDY_ID,
    name: 'Heart disease risk (demo)',
    // The newest heart template: new studies take it (missing indicators).
    templateId: heartRiskV2.id,
    config: {
      ...common,
      minParticipants: heartSites.length,
      ...(heartSites.length > 3 ? { minUpdates: heartSites.length - 1 } : {}),
    },
    hospitals: heartSites,
  }, clock);
  const lesions = await seedStudy(db, {
    id: LESION_DEMO_STUDY_ID,
    name: 'Lesions on scans (demo)',
    templateId: lesionImages.id,
    config: { ...common, minParticipants: LESION_MIN_PARTICIPANTS },
    hospitals: lesionHospitals,
  }, clock);
  return { ...heart, studies: [heart, lesions] };
}

async function seedStudy(
  db: Db,
  s: { id: string; name: string; templateId: string; config: Parameters<typeof createStudy>[1]['config']; hospitals: { id: string; name: string }[] },
  clock: Clock,
): Promise<DemoStudy> {
  const hospitals: DemoStudy['hospitals'] = [];
  for (const h of s.hospitals) hospitals.push({ siteId: h.id, name: h.name, userId: await ensureDemoSite(db, h, clock) });
  const study = await createStudy(db, { id: s.id, name: s.name, templateId: s.templateId, config: s.config });
  for (const h of s.hospitals) await enrolSite(db, study.id, h.id);
  return { study, hospitals };
}

/**
 * A demo site and its staff account, made the way a platform admin and a hospital would make them:
 * the site, a staff invite, and its redemption. Returns the staff account's id; a restart reuses both.
 */
async function ensureDemoSite(db: Db, h: { id: string; name: string }, clock: Clock): Promise<string> {
  const [existing] = await db.select().from(sites).where(eq(sites.id, h.id));
  if (!existing) await createSite(db, { id: h.id, name: h.name });
  if (!existing?.demoProfile) await db.update(sites).set({ demoProfile: h.id }).where(eq(sites.id, h.id));
  const email = demoStaffEmail(h.id);
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  if (user) return user.id;
  const invite = await createInvite(db, clock, { role: 'staff', siteId: h.id, expiresInHours: 1 }, 'demo');
  // Nobody types this password: the demo signs in with the printed link.
  const redeemed = await redeemInvite(db, clock, { code: invite.code, email, password: generatePassword() });
  return redeemed.user.id;
}
