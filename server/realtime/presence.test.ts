import { describe, expect, it } from 'vitest';
import { progressReportSchema } from '../../shared/protocol/schemas';
import { Presence } from './presence';

describe('Presence', () => {
  it('marks a participant offline when its last socket leaves', () => {
    const p = new Presence();
    p.connect('p1', 's', 'site', 'a');
    p.connect('p1', 's', 'site', 'b');
    p.report('p1', { studyId: 's', state: 'training' });
    expect(p.disconnect('a')).toEqual([]);
    expect(p.get('p1')?.state).toBe('training');
    expect(p.disconnect('b').map((e) => e.participantId)).toEqual(['p1']);
    expect(p.get('p1')?.state).toBe('offline');
    expect(p.isOnline('p1')).toBe(false);
  });

  it('keeps "suspended" when a tab that said the browser suspends it goes quiet', () => {
    const p = new Presence();
    p.connect('p1', 's', 'site', 'a');
    p.report('p1', { studyId: 's', state: 'suspended', round: 2 });
    p.disconnect('a');
    expect(p.get('p1')).toMatchObject({ state: 'suspended', round: 2 });
    expect(p.online('s')).toEqual([]);
  });

  it('lets a tab report itself suspended, never a straggler: that is the dashboard\'s verdict', () => {
    expect(progressReportSchema.safeParse({ studyId: 'heart-demo', state: 'suspended' }).success).toBe(true);
    expect(progressReportSchema.safeParse({ studyId: 'heart-demo', state: 'straggler' }).success).toBe(false);
  });
});
