import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHospitals } from '../../shared/synthetic';
import type { Database } from '../db/client';
import { testDatabaseTargets } from '../testing/databases';
import { startHeartStudy, type HeartStudy } from '../testing/heartStudy';

/** A study's local work in optimiser steps reaches every site with the round's opening; one in epochs says nothing of steps. */
describe.each(testDatabaseTargets())('local work per round in the round opening ($name)', (target) => {
  let database: Database;
  let study: HeartStudy | null = null;
  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await study?.stop();
    await target.dispose(database);
  });

  it('carries localSteps to each site when the study counts steps, and only localEpochs otherwise', async () => {
    const hospitals = demoHospitals.slice(0, 2);
    study = await startHeartStudy(target, database, { studyId: 'steps', hospitals, records: [30, 200], config: { localSteps: 25 } });
    expect(study.opened.map((o) => o.training.localSteps)).toEqual([25, 25]);
    await study.stop();
    study = await startHeartStudy(target, database, { studyId: 'epochs', hospitals, records: [30, 200] });
    expect(study.opened.every((o) => o.training.localSteps === undefined && o.training.localEpochs >= 1)).toBe(true);
  });
});
