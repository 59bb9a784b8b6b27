import path from 'node:path';
import { strategyConfigSchema } from '../../shared/fl/registry';
import type { StrategyName } from '../../shared/fl/strategy';
import type { StudySummary } from '../../shared/protocol/schemas';
import { denseBenchTemplate, parameterCount, registerTemplate } from '../../shared/tasks';
import { writeSecretFile } from '../auth/signInFile';
import type { Tokens } from '../auth/tokens';
import type { Db } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';

/*
 * Benchmarks only (`BENCH_STUDY`, used by scripts/bench-round.ts): one study of a dense model of a
 * chosen size, with N sites that are all sampled and all needed, a round deadline long enough that
 * only the updates close a round, and 1 round (or R, for the long-study bench: `--rounds R`).
 */

export const BENCH_STUDY_ID = 'bench';
/** Written in the data folder before the banner: what a benchmark needs to drive the study. */
export const BENCH_STUDY_FILE = 'bench-study.json';

export interface BenchStudyOptions {
  params: number;
  sites: number;
  strategy: StrategyName;
  /** Rounds the study runs; 1 unless given. */
  rounds?: number;
}

export interface BenchStudy {
  study: StudySummary;
  siteIds: string[];
  /** The model's actual parameter count (near the one asked for). */
  params: number;
}

export interface BenchStudyFile {
  url: string;
  studyId: string;
  templateId: string;
  /** The model's actual parameter count. */
  params: number;
  strategy: StrategyName;
  /** The rounds the study runs. */
  rounds: number;
  /** Each site's hospital link token (a site link, no staff account). */
  sites: { siteId: string; token: string }[];
}

const siteIdOf = (i: number, n: number) => `bench-site-${String(i + 1).padStart(String(n).length, '0')}`;

/**
 * Registers the dense template (before the app is built: it sizes the upload limit from the
 * templates) and seeds the study, its sites and their enrolments. Idempotent, like the demo.
 */
export async function seedBenchStudy(db: Db, opts: BenchStudyOptions): Promise<BenchStudy> {
  const template = denseBenchTemplate(opts.params);
  registerTemplate(template);
  const siteIds = Array.from({ length: opts.sites }, (_, i) => siteIdOf(i, opts.sites));
  await db
    .insert(sites)
    .values(siteIds.map((id, i) => ({ id, name: `Bench site ${i + 1}` })))
    .onConflictDoNothing();
  const study = await createStudy(db, {
    id: BENCH_STUDY_ID,
    name: `Round benchmark (${opts.sites} sites, ${template.model.layers.length} dense layers)`,
    templateId: template.id,
    config: {
      // Every round evaluated (evaluateEvery 1, never above rounds); nothing waits on evaluations.
      rounds: opts.rounds ?? 1,
      minParticipants: opts.sites,
      minUpdates: opts.sites,
      participantFraction: 1,
      roundDeadlineMs: 3_600_000,
      strategy: strategyConfigSchema.parse({ name: opts.strategy }),
    },
  });
  for (const id of siteIds) await enrolSite(db, study.id, id);
  return { study, siteIds, params: parameterCount(template.model) };
}

/** Writes `BENCH_STUDY_FILE` in `dataDir` with each site's link token, readable by this user only; returns its path. */
export async function writeBenchStudyFile(
  dataDir: string,
  url: string,
  seeded: BenchStudy,
  tokens: Pick<Tokens, 'hospitalLink'>,
): Promise<string> {
  const file = path.resolve(dataDir, BENCH_STUDY_FILE);
  const contents: BenchStudyFile = {
    url,
    studyId: seeded.study.id,
    templateId: seeded.study.templateId,
    params: seeded.params,
    strategy: seeded.study.config.strategy.name,
    rounds: seeded.study.config.rounds,
    sites: await Promise.all(seeded.siteIds.map(async (siteId) => ({ siteId, token: await tokens.hospitalLink(siteId) }))),
  };
  writeSecretFile(file, JSON.stringify(contents));
  return file;
}
