import { describe, expect, it } from 'vitest';
import { participantLabel, type LabelInput } from './dashboard';

const base: LabelInput = { connected: true, reported: 'idle', owesOpenRound: false, sentOpenRound: false, missedLastRound: false };

describe('participantLabel', () => {
  it('shows what a connected tab says it is doing', () => {
    expect(participantLabel({ ...base, reported: 'training', owesOpenRound: true })).toBe('training');
    expect(participantLabel({ ...base, reported: null })).toBe('idle');
    // A tab that reconnected and has not reported yet is waiting, not offline.
    expect(participantLabel({ ...base, reported: 'offline' })).toBe('idle');
  });

  it('reads an idle or uploading tab whose update arrived as done', () => {
    expect(participantLabel({ ...base, reported: 'uploading', sentOpenRound: true })).toBe('done');
    expect(participantLabel({ ...base, reported: 'evaluating', sentOpenRound: true })).toBe('evaluating');
  });

  it('labels a hospital that owes the open round and whose tab is gone or suspended a straggler, not offline', () => {
    expect(participantLabel({ ...base, connected: false, reported: 'offline', owesOpenRound: true })).toBe('straggler');
    expect(participantLabel({ ...base, connected: false, reported: 'suspended', owesOpenRound: true })).toBe('straggler');
    expect(participantLabel({ ...base, connected: true, reported: 'suspended', owesOpenRound: true })).toBe('straggler');
  });

  it('labels a hospital that missed the last round’s deadline and is away a straggler', () => {
    expect(participantLabel({ ...base, connected: false, reported: 'offline', missedLastRound: true })).toBe('straggler');
  });

  it('keeps offline for a site that owes nothing, and suspended for one whose browser froze it', () => {
    expect(participantLabel({ ...base, connected: false, reported: 'offline' })).toBe('offline');
    expect(participantLabel({ ...base, connected: false, reported: null })).toBe('offline');
    expect(participantLabel({ ...base, connected: false, reported: 'suspended' })).toBe('suspended');
    expect(participantLabel({ ...base, connected: true, reported: 'suspended' })).toBe('suspended');
  });

  it('shows a straggler that came back by what its tab does now', () => {
    expect(participantLabel({ ...base, reported: 'training', missedLastRound: true })).toBe('training');
  });
});
