import { describe, expect, it } from 'vitest';
import { mergeStudyConfig, roundOpenSchema, studyConfigPatchSchema, studyConfigSchema, trainingConfigSchema } from './schemas';

const base = { rounds: 5, minParticipants: 3, roundDeadlineMs: 60_000, localEpochs: 2, batchSize: 32, learningRate: 0.01, validationFraction: 0.2, seed: 1 };

describe('a study’s local work per round', () => {
  it('is counted in epochs when no steps are set: a configuration stored before steps existed reads unchanged', () => {
    const c = studyConfigSchema.parse(base);
    expect(c.localEpochs).toBe(2);
    expect(c).not.toHaveProperty('localSteps');
    // Read again, as a stored configuration is, it is the same.
    expect(studyConfigSchema.parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  it('may be counted in optimiser steps, a whole number from 1 to 100000', () => {
    for (const localSteps of [1, 250, 100_000]) expect(studyConfigSchema.parse({ ...base, localSteps })).toMatchObject({ localSteps, localEpochs: 2 });
    for (const [localSteps, message] of [
      [0, /at least 1/],
      [100_001, /at most 100000/],
      [2.5, /whole number/],
    ] as const) {
      const r = studyConfigSchema.safeParse({ ...base, localSteps });
      expect(r.error?.issues[0], String(localSteps)).toMatchObject({ path: ['localSteps'], message: expect.stringMatching(message) });
      expect(studyConfigPatchSchema.safeParse({ localSteps }).success).toBe(false);
    }
  });

  it('goes back to epochs with a change of localSteps to null, and keeps its steps through other changes', () => {
    const stepping = studyConfigSchema.parse({ ...base, localSteps: 300 });
    expect(studyConfigSchema.parse(mergeStudyConfig(stepping, { learningRate: 0.02 }))).toMatchObject({ localSteps: 300, learningRate: 0.02 });
    const patch = studyConfigPatchSchema.parse({ localSteps: null });
    const back = studyConfigSchema.parse(mergeStudyConfig(stepping, patch));
    expect(back).not.toHaveProperty('localSteps');
    expect(back).toEqual(studyConfigSchema.parse(base));
  });

  it('reaches the sites in the round opening’s training block, which stays valid without it', () => {
    const open = { studyId: 'heart', round: 1, baseVersion: 0, deadline: 1_000, normalisation: null };
    const training = { localEpochs: 2, batchSize: 32, learningRate: 0.01, optimizer: 'adam' as const };
    expect(roundOpenSchema.parse({ ...open, training: { ...training, localSteps: 120 } }).training).toEqual({ ...training, localSteps: 120 });
    expect(roundOpenSchema.parse({ ...open, training }).training).not.toHaveProperty('localSteps');
    expect(roundOpenSchema.safeParse({ ...open, training: { ...training, localSteps: 0 } }).success).toBe(false);
    expect(trainingConfigSchema.safeParse({ ...training, localSteps: 100_001 }).success).toBe(false);
  });
});
