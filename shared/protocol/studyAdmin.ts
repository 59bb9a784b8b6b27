import { z } from 'zod';
import { PG_INTEGER_MAX } from './params';
import { siteSchema, studyConfigPatchSchema, studyIdSchema, type StudyConfig, type StudySummary } from './schemas';

/** `POST /api/studies`: a study from a template, its settings over the template's defaults, and the sites to enrol. */
export const createStudyRequestSchema = z.strictObject({
  id: studyIdSchema,
  name: z.string().trim().min(1, 'name the study').max(200, 'a study name is at most 200 characters'),
  templateId: z.string().min(1, 'choose a template'),
  config: studyConfigPatchSchema.optional(),
  siteIds: z.array(z.string().min(1)).max(10_000).optional(),
});
export type CreateStudyRequest = z.infer<typeof createStudyRequestSchema>;

/** `POST /api/studies/:id/participants`. */
export const enrolRequestSchema = z.strictObject({ siteId: z.string().min(1, 'name the site to enrol') });
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;

export interface EnrolResult {
  participantId: string;
  siteId: string;
  siteName: string;
  /** False when the site was already enrolled. */
  created: boolean;
}

/** `GET /api/sites`: every hospital site, with the studies it takes part in. */
export interface SiteView extends z.infer<typeof siteSchema> {
  demo: boolean;
  studyIds: string[];
  /** When a platform admin suspended the site; null while it takes part. */
  suspendedAt: string | null;
  /** How many accounts (site admins and staff) the site has. */
  members: number;
}

/** `GET /api/templates`: what a study can be made from. */
export interface TemplateView {
  id: string;
  name: string;
  description: string;
  /** 1, 2, ...: a template's versions share its features and differ in encoding or model. */
  version: number;
  /** Whether this is the template's newest version (new studies should take it). */
  latest: boolean;
  /** Defined in the console (issue 20), not shipped with the server. */
  custom: boolean;
  /** What this version changes from the one before. */
  changes?: string;
  /** A version offered beside the main one (a bigger model for GPU sites), named by this phrase; new studies start elsewhere. */
  alternative?: string;
  /** binary or multi-class classification. */
  taskKind: 'binary' | 'multiclass';
  input: 'tabular' | 'image';
  parameters: number;
  defaultConfig: StudyConfig;
}

/** One recorded configuration change. */
export interface ConfigChangeView {
  id: number;
  changedBy: string;
  changedAt: string;
  /** The first round that runs with `after`; rounds before it (the one open then included) kept `before`. */
  effectiveFromRound: number;
  /** Top-level settings whose value changed. */
  changed: string[];
  before: StudyConfig;
  after: StudyConfig;
}

/** `PATCH /api/studies/:id/config`: the study as it now is, and the recorded change (null when nothing changed). */
export interface ConfigChangeResult {
  study: StudySummary;
  change: ConfigChangeView | null;
}

/** Continue a study from one of its earlier versions. */
export const restartRequestSchema = z.strictObject({
  fromVersion: z.number().int().min(0).max(PG_INTEGER_MAX),
});
export type RestartRequest = z.infer<typeof restartRequestSchema>;
