import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DENSE_BENCH_TEMPLATE_ID, getTemplate } from '../../shared/tasks';
import { createTokens } from '../auth/tokens';
import type { Database } from '../db/client';
import { studiesOfSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { BENCH_STUDY_FILE, BENCH_STUDY_ID, seedBenchStudy, writeBenchStudyFile, type BenchStudyFile } from './benchStudy';

describe.each(testDatabaseTargets())('the bench study, BENCH_STUDY ($name)', (target) => {
  let database: Database;
  let dir: string;
  beforeAll(async () => {
    database = await target.open();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-bench-seed-'));
  });
  afterAll(async () => {
    await target.dispose(database);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('seeds one study of a dense model with every site sampled and needed, and writes each site\'s link', async () => {
    const seeded = await seedBenchStudy(database.db, { params: 10_000, sites: 12, strategy: 'median' });
    expect(getTemplate(DENSE_BENCH_TEMPLATE_ID)).toBeDefined();
    expect(seeded.params).toBe(10_000);
    expect(seeded.study).toMatchObject({ id: BENCH_STUDY_ID, templateId: DENSE_BENCH_TEMPLATE_ID, status: 'waiting' });
    expect(seeded.study.config).toMatchObject({ rounds: 1, minParticipants: 12, minUpdates: 12, participantFraction: 1, strategy: { name: 'median' } });
    expect(seeded.study.config.roundDeadlineMs).toBeGreaterThanOrEqual(3_600_000);
    expect(seeded.siteIds).toHaveLength(12);
    for (const id of seeded.siteIds) expect(await studiesOfSite(database.db, id)).toEqual([BENCH_STUDY_ID]);

    const tokens = createTokens(new Uint8Array(32).fill(7));
    const file = await writeBenchStudyFile(dir, 'http://localhost:1', seeded, tokens);
    expect(file).toBe(path.resolve(dir, BENCH_STUDY_FILE));
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchStudyFile;
    expect(written).toMatchObject({ studyId: BENCH_STUDY_ID, params: 10_000, strategy: 'median', rounds: 1 });
    expect(written.sites.map((s) => s.siteId)).toEqual(seeded.siteIds);
    for (const s of written.sites) expect(await tokens.verify(s.token)).toMatchObject({ type: 'link', siteId: s.siteId, userId: null, expired: false });
    // The links are secrets: the file is for this user's eyes only.
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    // A restart on the same data seeds nothing new.
    const again = await seedBenchStudy(database.db, { params: 10_000, sites: 12, strategy: 'median' });
    expect(again.study).toEqual(seeded.study);
  });

  it('seeds a long study of R rounds for the long-study bench, every round evaluated', async () => {
    // Emptied first: the bench study's id is fixed, and the test above made it.
    await target.reset(database);
    const seeded = await seedBenchStudy(database.db, { params: 10_000, sites: 3, strategy: 'fedavg', rounds: 50 });
    expect(seeded.study.config).toMatchObject({ rounds: 50, evaluateEvery: 1, minParticipants: 3, minUpdates: 3, participantFraction: 1 });
    const file = await writeBenchStudyFile(fs.mkdtempSync(path.join(dir, 'long-')), 'http://localhost:1', seeded, createTokens(new Uint8Array(32).fill(9)));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ studyId: BENCH_STUDY_ID, params: 10_000, rounds: 50 });
  });
});
