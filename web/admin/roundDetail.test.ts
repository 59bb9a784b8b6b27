import { describe, expect, it } from 'vitest';
import type { RoundDetail, RoundUpdateView } from '../../shared/protocol/roundDetail';
import { axisNumber, byteSize, closeReasonText, fmt, niceCeil, normChart, relativeTime, timelineSteps } from './roundDetail';

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(t0 + ms).toISOString();

const update = (siteName: string, o: Partial<RoundUpdateView> = {}): RoundUpdateView => ({
  participantId: `p-${siteName}`,
  siteId: siteName.toLowerCase(),
  siteName,
  lateBy: 0,
  receivedAt: iso(1000),
  bytes: 1684,
  numSamples: 100,
  capped: false,
  norm: 0.5,
  scale: 1,
  clipped: false,
  weight: 0.5,
  selected: true,
  score: null,
  distance: null,
  ...o,
});

const detail = (o: Partial<RoundDetail> = {}): RoundDetail => ({
  studyId: 's',
  round: 3,
  status: 'closed',
  closeReason: 'all_reported',
  baseVersion: 2,
  version: 3,
  strategy: 'fedavg',
  details: {},
  sampled: 3,
  needed: 2,
  timeline: {
    openedAt: iso(0),
    deadline: iso(60_000),
    firstUpdateAt: iso(1200),
    quorumAt: iso(2500),
    lastUpdateAt: iso(4000),
    aggregationStartedAt: iso(4010),
    closedAt: iso(4050),
    publishedAt: iso(4050),
  },
  bounds: { clipMode: 'fixed', clipNorm: 1, maxNorm: null, sampleCap: null },
  bytesIn: { accepted: 0, acceptedUpdates: 0, refused: 0, refusedUploads: 0, total: 0 },
  bytesOut: { countedSince: iso(-1), base: { version: 2, downloads: 0, bytes: 0 }, result: null },
  updates: [update('A'), update('B', { norm: 4, scale: 0.25, clipped: true })],
  refused: [],
  ...o,
});

describe('the round timeline', () => {
  it('orders the moments from the opening, merges those at one instant, and places them on the track', () => {
    const steps = timelineSteps(detail().timeline, detail());
    expect(steps.map((s) => s.label)).toEqual(['opened', 'first update', 'quorum (2)', 'last update', 'aggregation began', 'aggregated · published v3']);
    expect(steps.map((s) => relativeTime(s.offset))).toEqual(['+0 s', '+1.2 s', '+2.5 s', '+4.0 s', '+4.0 s', '+4.0 s']);
    expect(steps[0].position).toBe(0);
    expect(steps.at(-1)!.position).toBe(1);
    expect(steps[2].position).toBeCloseTo(2500 / 4050, 12);
  });

  it('leaves out what never happened, and says when a round was abandoned', () => {
    const d = detail({ status: 'abandoned', version: null, closeReason: 'deadline_no_quorum' });
    const t = { ...d.timeline, quorumAt: null, aggregationStartedAt: null, publishedAt: null, lastUpdateAt: d.timeline.firstUpdateAt, closedAt: iso(60_005) };
    expect(timelineSteps(t, d).map((s) => s.label)).toEqual(['opened', 'first update · last update', 'abandoned']);
    const open = { ...t, firstUpdateAt: null, lastUpdateAt: null, closedAt: null };
    expect(timelineSteps(open, { ...d, status: 'open' })).toEqual([{ keys: ['opened'], label: 'opened', at: t0, offset: 0, position: 0 }]);
  });

  it('says times after the opening in the unit that reads best', () => {
    expect([0, 850, 3200, 42_400, 65_000, 7_380_000].map(relativeTime)).toEqual(['+0 s', '+850 ms', '+3.2 s', '+42 s', '+1 min 05 s', '+2 h 03 min']);
  });
});

describe('the norms chart', () => {
  it('marks each update within the bound, clipped, passed over by Krum or refused, refused ones after the accepted', () => {
    const c = normChart(
      detail({
        updates: [update('A'), update('B', { norm: 4, scale: 0.25, clipped: true }), update('C', { selected: false, norm: 0.6 }), update('A', { lateBy: 1, norm: 0.4 })],
        refused: [{ participantId: 'p-d', siteId: 'd', siteName: 'D', code: 'update_norm_exceeded', reason: '…', bytes: 10, at: iso(900), norm: 2.5 }],
        bounds: { clipMode: 'fixed', clipNorm: 1, maxNorm: 2, sampleCap: null },
      }),
    );
    expect(c.points.map((p) => [p.name, p.status])).toEqual([
      ['A', 'within'],
      ['B', 'clipped'],
      ['C', 'passedOver'],
      ['A (late)', 'within'],
      ['D (refused)', 'refused'],
    ]);
    expect(c.points[1]).toMatchObject({ clipped: 4, within: null, aggregatedNorm: 1, detail: 'norm 4.00, clipped ×0.250 to 1.00' });
    expect(c.points[4]).toMatchObject({ refused: 2.5, detail: 'refused: update_norm_exceeded, norm 2.50' });
    expect(c).toMatchObject({ scale: 'linear', domain: [0, 5], clipNorm: 1, maxNorm: 2, maxNormOffChart: false });
  });

  it('turns logarithmic when one norm dwarfs the rest, and names a refusal limit far above the data instead of drawing it', () => {
    const c = normChart(detail({ updates: [update('A', { norm: 0.02 }), update('B', { norm: 40, scale: 0.025, clipped: true })], bounds: { clipMode: 'fixed', clipNorm: 1, maxNorm: 1e4, sampleCap: null } }));
    expect(c).toMatchObject({ scale: 'log', domain: [0.01, 100], maxNorm: null, maxNormOffChart: true });
  });

  it('rounds the axis to a readable end, and writes norms in three significant digits', () => {
    expect([0.93, 1, 2.2, 2.6, 7, 0].map(niceCeil)).toEqual([1, 1, 2.5, 5, 10, 1]);
    expect([1.23456, 0.000123, 3e38, null].map(fmt)).toEqual(['1.23', '1.23e-4', '3.00e+38', '—']);
    expect([10_000, 1000, 1.5, 0.5, 0.01, 0, 1e6, 1e-4].map(axisNumber)).toEqual(['10,000', '1,000', '1.5', '0.5', '0.01', '0', '1e+6', '1e-4']);
  });
});

describe('bytes and reasons', () => {
  it('writes sizes in decimal units and close reasons in words', () => {
    expect([0, 812, 1684, 52_300, 3_400_000].map(byteSize)).toEqual(['0 B', '812 B', '1.68 kB', '52.3 kB', '3.40 MB']);
    expect(closeReasonText('deadline_quorum')).toBe('the deadline passed with a quorum');
    expect(closeReasonText('aggregation failed: x')).toBe('aggregation failed: x');
  });
});
