import { describe, expect, it } from 'vitest';
import type { ApiTokenView } from '../../shared/protocol/monitoring';
import { lastUsedText, metricsExportFileName, metricsExportUrl, sortTokens } from './monitoringView';

describe('the console’s monitoring helpers', () => {
  it('points the exports at the history route with the format and the largest page', () => {
    expect(metricsExportUrl('heart-demo', 'csv')).toBe('/api/metrics/history?study=heart-demo&format=csv&limit=1000');
    expect(metricsExportUrl('heart-demo', 'json')).toBe('/api/metrics/history?study=heart-demo&format=json&limit=1000');
    expect(metricsExportFileName('heart-demo', 'json')).toBe('heart-demo-metrics.json');
  });

  it('says when a token was last used, no finer than the minute the server records it to', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const ago = (s: number) => new Date(now - s * 1000).toISOString();
    expect(lastUsedText(null, now)).toBe('never used');
    expect(lastUsedText(ago(5), now)).toBe('used within the last minute');
    expect(lastUsedText(ago(-5), now)).toBe('used within the last minute');
    expect(lastUsedText(ago(125), now)).toBe('used 2 min ago');
    expect(lastUsedText(ago(3 * 3600 + 10), now)).toBe('used 3 h ago');
    expect(lastUsedText(ago(5 * 24 * 3600), now)).toBe(`used ${new Date(now - 5 * 24 * 3600 * 1000).toLocaleDateString()}`);
  });

  it('lists active tokens before revoked ones, keeping the server’s order within each', () => {
    const t = (id: string, revokedAt: string | null): ApiTokenView => ({ id, name: id, scope: 'monitoring:read', createdBy: 'a@b.c', createdAt: '2026-01-01T00:00:00Z', lastUsedAt: null, revokedAt });
    expect(sortTokens([t('a', '2026-01-02T00:00:00Z'), t('b', null), t('c', null), t('d', '2026-01-03T00:00:00Z')]).map((x) => x.id)).toEqual(['b', 'c', 'a', 'd']);
  });
});
