import { describe, expect, it } from 'vitest';
import type { ParticipantView } from '../../shared/protocol';
import { dataQualityRefreshKey, qualityCell } from './dataQualityView';

const participant = (id: string, statisticsAt: string | null): ParticipantView => ({
  participantId: id,
  siteId: id,
  siteName: id,
  connected: true,
  state: 'idle',
  backend: null,
  numSamples: null,
  round: null,
  epoch: null,
  epochs: null,
  loss: null,
  lastUpdateRound: null,
  datasetFingerprint: null,
  statisticsAt,
});

describe('the data-by-site panel', () => {
  it('is fetched again when a site enrols, first sends its statistics, or sends them again', () => {
    const before = dataQualityRefreshKey([participant('a', '2025-01-01T10:00:00.000Z'), participant('b', null)]);
    const enrolled = dataQualityRefreshKey([participant('a', '2025-01-01T10:00:00.000Z'), participant('b', null), participant('c', null)]);
    const sent = dataQualityRefreshKey([participant('a', '2025-01-01T10:00:00.000Z'), participant('b', '2025-01-01T10:05:00.000Z')]);
    const resent = dataQualityRefreshKey([participant('a', '2025-01-01T11:00:00.000Z'), participant('b', '2025-01-01T10:05:00.000Z')]);
    expect(new Set([before, enrolled, sent, resent]).size).toBe(4);
    // Live progress alone (the dashboard refreshes often) does not refetch it.
    expect(dataQualityRefreshKey([{ ...participant('a', '2025-01-01T10:00:00.000Z'), loss: 0.4, epoch: 2 }, participant('b', null)])).toBe(before);
  });

  it('marks a feature missing from more than half of a site’s records, and says what its figures count', () => {
    const site = { participantId: 'p', siteId: 's', siteName: 'S', rows: 294, features: { chol: { missing: 285, rate: 285 / 294, flagged: 2 }, age: { missing: 147, rate: 0.5, flagged: 0 } } };
    expect(qualityCell(site, 'chol')).toEqual({
      text: '97 %',
      mostlyMissing: true,
      none: false,
      flagged: 2,
      title: '285 of 294 training records missing; 2 present values outside the plausible range (kept)',
    });
    expect(qualityCell(site, 'age')).toMatchObject({ text: '50 %', mostlyMissing: false, none: false, flagged: 0, title: '147 of 294 training records missing' });
  });
});
