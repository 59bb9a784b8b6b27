import { sql } from 'drizzle-orm';
import {
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Normalisation, SiteStatistics } from '../../shared/fl/normalisation';
import type { AggregationReport } from '../../shared/fl/report';
import type { RoundBounds } from '../../shared/fl/bounds';
import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import { studyConfigSchema, type StudyConfig, type StudyStatus } from '../../shared/protocol/schemas';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  // postgres-js hands back a Buffer (a Uint8Array subclass); PGlite a plain Uint8Array.
  fromDriver: (v) => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer)),
});

/**
 * A study configuration, parsed through `studyConfigSchema` on every read: a configuration stored
 * before a setting existed comes back with that setting's default.
 */
const studyConfigJson = customType<{ data: StudyConfig; driverData: string }>({
  dataType: () => 'jsonb',
  toDriver: (v) => JSON.stringify(v),
  fromDriver: (v) => studyConfigSchema.parse(typeof v === 'string' ? JSON.parse(v) : v),
});

const studyStatuses = ['waiting', 'running', 'paused', 'stopped', 'completed'] as const satisfies readonly StudyStatus[];

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** Server-wide values that must survive restarts (signing secret, ...). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const roles = ['platform_admin', 'site_admin', 'staff', 'patient'] as const;
export type Role = (typeof roles)[number];

export const sites = pgTable('sites', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Which seeded synthetic dataset a demo hospital's browser generates; null for real hospitals. */
  demoProfile: text('demo_profile'),
  /** Set when a platform admin suspends the site: its invites and sessions end, its tabs are refused. */
  suspendedAt: timestamp('suspended_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/** People who sign in. Site admins and staff belong to one site; platform admins and patients to none. */
export const users = pgTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: roles }).notNull(),
  siteId: text('site_id').references(() => sites.id),
  createdAt: createdAt(),
  /**
   * The generation of the account's hospital sign-in links: each link carries the one it was made at,
   * and only links of the current one are accepted. Revoking or re-issuing a link, or a password
   * reset, moves it on, which ends every link made before.
   */
  linkEpoch: integer('link_epoch').notNull().default(0),
  /** When the account's sign-in links were last revoked (null: never). */
  linksRevokedAt: timestamp('links_revoked_at', { withTimezone: true }),
});

/** Single-use, expiring invite codes; only the code's SHA-256 is kept. */
export const invites = pgTable(
  'invites',
  {
    id: text('id').primaryKey(),
    codeHash: text('code_hash').notNull().unique(),
    role: text('role', { enum: roles }).notNull(),
    siteId: text('site_id').references(() => sites.id),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    redeemedAt: timestamp('redeemed_at', { withTimezone: true }),
    redeemedBy: text('redeemed_by').references(() => users.id),
    /** Set when the invite was withdrawn (by an admin, or because its site was suspended). */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('invites_site').on(t.siteId)],
);

/** A signed-in session; the cookie's token names it, so logout and suspension end it at once. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    /** Absolute end: refreshing never extends a session past it. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** Append-only record of who did what and when; a trigger refuses updates and deletes. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: serial('id').primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** The user who acted; null for the system (round closed by its deadline) and for unknown callers. */
    actorId: text('actor_id'),
    /** How the actor is shown: an email, a site, or "system". */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    /** What it was done to: a study, a site, a version, an email… */
    target: text('target'),
    studyId: text('study_id'),
    siteId: text('site_id'),
    address: text('address'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_events_at').on(t.at), index('audit_events_action').on(t.action, t.id)],
);

/**
 * Read-only API tokens for monitoring tools (scope `monitoring:read`): only the secret's SHA-256 is
 * kept; the secret itself is shown once, when the token is made.
 */
export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  hash: text('hash').notNull().unique(),
  scope: text('scope', { enum: ['monitoring:read'] }).notNull().default('monitoring:read'),
  createdBy: text('created_by')
    .notNull()
    .references(() => users.id),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** A signed-in patient's conversation with the chatbot. */
export const chatConversations = pgTable(
  'chat_conversations',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('chat_conversations_user').on(t.userId, t.updatedAt)],
);

export const chatMessages = pgTable(
  'chat_messages',
  {
    id: serial('id').primaryKey(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => chatConversations.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['patient', 'assistant'] }).notNull(),
    text: text('text').notNull(),
    /** The articles an answer cites, as shown with it. */
    citations: jsonb('citations').$type<{ slug: string; title: string }[]>(),
    createdAt: createdAt(),
  },
  (t) => [index('chat_messages_conversation').on(t.conversationId, t.id)],
);

/** Chat messages per key (a patient or an address) per UTC day, for the daily limit. */
export const chatUsage = pgTable(
  'chat_usage',
  {
    key: text('key').notNull(),
    day: text('day').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.day] })],
);

export const studies = pgTable('studies', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  templateId: text('template_id').notNull(),
  config: studyConfigJson('config').notNull(),
  status: text('status', { enum: studyStatuses }).notNull().default('waiting'),
  currentVersion: integer('current_version').notNull().default(0),
  completedRounds: integer('completed_rounds').notNull().default(0),
  /** Global feature statistics combined from the sites before the first round; fixed from then on. */
  normalisation: jsonb('normalisation').$type<Normalisation>(),
  /** The version patients' risk checks and non-admin downloads get; null until one is approved. */
  approvedVersion: integer('approved_version'),
  createdAt: createdAt(),
});

/** A site enrolled in a study. */
export const participants = pgTable(
  'participants',
  {
    id: text('id').primaryKey(),
    studyId: text('study_id').notNull().references(() => studies.id),
    siteId: text('site_id').notNull().references(() => sites.id),
    numSamples: integer('num_samples'),
    lastBackend: text('last_backend'),
    datasetFingerprint: text('dataset_fingerprint'),
    joinedAt: timestamp('joined_at', { withTimezone: true }),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('participants_study_site').on(t.studyId, t.siteId)],
);

export const rounds = pgTable(
  'rounds',
  {
    id: serial('id').primaryKey(),
    studyId: text('study_id').notNull().references(() => studies.id),
    number: integer('number').notNull(),
    status: text('status', { enum: ['open', 'aggregating', 'closed', 'abandoned'] }).notNull(),
    baseVersion: integer('base_version').notNull(),
    /** Participant ids sampled for this round, sorted. */
    sampled: jsonb('sampled').$type<string[]>().notNull(),
    /** The study's configuration when the round opened: a later change applies from the next round. Null on rounds from before it was kept. */
    config: studyConfigJson('config'),
    deadline: timestamp('deadline', { withTimezone: true }).notNull(),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closeReason: text('close_reason'),
    resultVersion: integer('result_version'),
    contributors: integer('contributors'),
    totalSamples: integer('total_samples'),
    meanTrainLoss: doublePrecision('mean_train_loss'),
    /** The bounds fixed when the round opened: every update is checked, clipped and summed by them as it arrives. */
    bounds: jsonb('bounds').$type<RoundBounds>(),
    /** What the strategy did with each update: clipped, selected, weight, distance. */
    aggregationReport: jsonb('aggregation_report').$type<AggregationReport>(),
  },
  (t) => [uniqueIndex('rounds_study_number').on(t.studyId, t.number), index('rounds_study_status').on(t.studyId, t.status)],
);

/**
 * A differentially private round's noise key: 32 random bytes the Gaussian noise of its mean is drawn
 * from (server/privacy/noise.ts), so a round replayed or finished by another process adds the same
 * noise. Kept apart from `rounds`, which the views read: no API returns it.
 */
export const roundSecrets = pgTable('round_secrets', {
  roundId: integer('round_id')
    .primaryKey()
    .references(() => rounds.id, { onDelete: 'cascade' }),
  noiseKey: text('noise_key').notNull(),
});

/** Accepted updates: at most one per participant and round, whatever the retries. */
export const updates = pgTable(
  'updates',
  {
    id: serial('id').primaryKey(),
    roundId: integer('round_id').notNull().references(() => rounds.id),
    participantId: text('participant_id').notNull().references(() => participants.id),
    idempotencyKey: text('idempotency_key').notNull(),
    numSamples: integer('num_samples').notNull(),
    backend: text('backend').notNull(),
    trainLoss: doublePrecision('train_loss'),
    /** Versions between the round's base and the update's base: above 0 for a straggler taken late. */
    staleness: integer('staleness').notNull().default(0),
    /** Multiplies the update's sample weight (the straggler policy's down-weight). */
    weight: doublePrecision('weight').notNull().default(1),
    /** SHA-256 of the payload as uploaded, in the blob store (server/storage). */
    payloadSha256: text('payload_sha256'),
    payloadBytes: integer('payload_bytes'),
    /** Byte offset of the first value in the payload: value k of the flattened update is at this + 4k. */
    payloadDataOffset: integer('payload_data_offset'),
    /** L2 norm of the update as received, measured at intake. */
    norm: doublePrecision('norm'),
    /** The factor intake scaled the update by to the round's clipping bound (1 when within it). */
    clipScale: doublePrecision('clip_scale').notNull().default(1),
    /** When the payload was deleted from the blob store (its version written, retention over). */
    payloadDeletedAt: timestamp('payload_deleted_at', { withTimezone: true }),
    /** Bytes of updates stored before the blob store; moved out at start (`moveLegacyBlobs`). */
    payload: bytea('payload'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // One on-time update per participant and round, and at most one late one (staleness > 0) beside it.
  (t) => [uniqueIndex('updates_round_participant').on(t.roundId, t.participantId, t.staleness), index('updates_payload').on(t.payloadSha256)],
);

/** Updates refused before aggregation, with the reason; the payload itself is not kept. */
export const refusedUpdates = pgTable(
  'refused_updates',
  {
    id: serial('id').primaryKey(),
    studyId: text('study_id').notNull().references(() => studies.id),
    /** The round the sender named (it may not exist). */
    roundNumber: integer('round_number').notNull(),
    participantId: text('participant_id').notNull().references(() => participants.id),
    code: text('code').notNull(),
    reason: text('reason').notNull(),
    bytes: integer('bytes').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('refused_updates_study').on(t.studyId, t.id)],
);

export const modelVersions = pgTable(
  'model_versions',
  {
    studyId: text('study_id').notNull().references(() => studies.id),
    version: integer('version').notNull(),
    parentVersion: integer('parent_version'),
    roundNumber: integer('round_number'),
    /** Legacy: versions stored before the blob store kept their bytes here; moved out at start. */
    weights: bytea('weights'),
    serverState: bytea('server_state'),
    /** SHA-256 of the version's codec payload (kind 'model'), its name in the blob store. */
    sha256: text('sha256').notNull(),
    weightsBytes: integer('weights_bytes'),
    /** The strategy's server state after making this version (momentum, Adam moments: `encodeServerState`), in the blob store. */
    serverStateSha256: text('server_state_sha256'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.version] })],
);

/** Every approval of a model version, in order; the latest one is the study's approved version. */
export const modelApprovals = pgTable(
  'model_approvals',
  {
    id: serial('id').primaryKey(),
    studyId: text('study_id').notNull().references(() => studies.id),
    version: integer('version').notNull(),
    /** The version approved before this one (null for the first approval): what a rollback restores. */
    previousVersion: integer('previous_version'),
    approvedBy: text('approved_by').notNull(),
    note: text('note').notNull(),
    approvedAt: timestamp('approved_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('model_approvals_study').on(t.studyId, t.id)],
);

/** Each site's aggregate statistics, contributed before the first round. Never shown to other sites. */
export const siteStatistics = pgTable(
  'site_statistics',
  {
    studyId: text('study_id').notNull().references(() => studies.id),
    participantId: text('participant_id').notNull().references(() => participants.id),
    statistics: jsonb('statistics').$type<SiteStatistics>().notNull(),
    /** The dataset the statistics describe (as the site fingerprints it); null from older tabs. */
    datasetFingerprint: text('dataset_fingerprint'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.participantId] })],
);

/** Each participant's evaluation of a model version on its local validation split. */
export const evaluations = pgTable(
  'evaluations',
  {
    studyId: text('study_id').notNull().references(() => studies.id),
    version: integer('version').notNull(),
    participantId: text('participant_id').notNull().references(() => participants.id),
    loss: doublePrecision('loss').notNull(),
    accuracy: doublePrecision('accuracy').notNull(),
    numSamples: integer('num_samples').notNull(),
    backend: text('backend').notNull(),
    /** AUROC, sensitivity, specificity, confusion, calibration bins…; null from clients that predate them. */
    clinical: jsonb('clinical').$type<ClinicalMetrics>(),
    reportedAt: timestamp('reported_at', { withTimezone: true }).notNull().default(sql`now()`),
    /**
     * Why the report sits too far from the other sites' of the same version to be pooled unseen
     * (shared/metrics/outliers.ts); null when it does not. Flagged reports are left out of the pooled
     * figures until an admin includes them.
     */
    flag: text('flag'),
    /** The admin who included a flagged report in the pooled figures, and when. */
    includedBy: text('included_by'),
    includedAt: timestamp('included_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.version, t.participantId] })],
);

/** Every change of a study's configuration: who, when, what it was and became, and the first round it governs. */
export const studyConfigChanges = pgTable(
  'study_config_changes',
  {
    id: serial('id').primaryKey(),
    studyId: text('study_id').notNull().references(() => studies.id),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
    before: jsonb('before').$type<StudyConfig>().notNull(),
    after: jsonb('after').$type<StudyConfig>().notNull(),
    effectiveFromRound: integer('effective_from_round').notNull(),
  },
  (t) => [index('study_config_changes_study').on(t.studyId, t.id)],
);

export const allTables = { settings, users, sites, invites, sessions, auditEvents, chatConversations, chatMessages, chatUsage, studies, participants, rounds, updates, refusedUpdates, modelVersions, modelApprovals, siteStatistics, evaluations, studyConfigChanges };

/**
 * Study templates defined in the console (issue 20), one row per version, never changed once written:
 * a study keeps the template id it was made with. `definition` is the task template every process and
 * tab registers; `design` what the admin filled in, to start the next version from.
 */
export const customTemplates = pgTable(
  'custom_templates',
  {
    id: text('id').primaryKey(),
    family: text('family').notNull(),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<unknown>().notNull(),
    design: jsonb('design').$type<unknown>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('custom_templates_family_version').on(t.family, t.version)],
);

/** Column statistics a site sent from its tab (names, types, ranges, codes; never rows), for the study designer. */
export const columnSummaries = pgTable(
  'column_summaries',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').notNull().references(() => sites.id),
    summary: jsonb('summary').$type<unknown>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('column_summaries_created').on(t.createdAt)],
);

/**
 * Record-level DP-SGD (shared/fl/privacy/recordLevel.ts): the steps each site was assigned in each
 * round, at its sampling rate. Written when the round opens, before the site trains, so a round the
 * site never finished still counts: the accountant never under-counts.
 */
export const recordPrivacyRuns = pgTable(
  'record_privacy_runs',
  {
    id: serial('id').primaryKey(),
    studyId: text('study_id').notNull().references(() => studies.id),
    roundId: integer('round_id').notNull().references(() => rounds.id),
    participantId: text('participant_id').notNull().references(() => participants.id),
    sampleRate: doublePrecision('sample_rate').notNull(),
    steps: integer('steps').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('record_privacy_runs_round_participant').on(t.roundId, t.participantId), index('record_privacy_runs_study').on(t.studyId, t.participantId)],
);
