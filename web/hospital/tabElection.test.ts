import { describe, expect, it } from 'vitest';
import { initialTabView, parseTabMessage, tabReducer, trainerLockName, trainsHere, type Mirror, type TabEvent } from './tabElection';

const mirror: Mirror = {
  participantState: 'training',
  connected: true,
  backend: 'cpu',
  round: 1,
  epoch: 2,
  epochs: 5,
  loss: 0.61,
  roundsDone: 0,
  currentVersion: 0,
  studyStatus: 'running',
};
const run = (...events: TabEvent[]) => events.reduce(tabReducer, initialTabView);
const state = (from: string, m: Partial<Mirror> = {}): TabEvent => ({ type: 'message', message: { type: 'state', from, mirror: { ...mirror, ...m } } });

describe('tab election', () => {
  it('names one lock per site and study', () => {
    expect(trainerLockName('hospital-a', 'heart-demo')).toBe('consilium-trainer:hospital-a:heart-demo');
  });

  it('a joined tab that hears a training tab follows it; the lock makes it the leader', () => {
    const s = run({ type: 'join' }, state('t1'));
    expect(s).toEqual({ role: 'follower', leader: mirror, leaderId: 't1' });
    expect(trainsHere(s)).toBe(false);
    const l = tabReducer(s, { type: 'granted' });
    expect(l).toEqual({ role: 'leader', leader: null, leaderId: null });
    expect(trainsHere(l)).toBe(true);
  });

  it('a leader ignores other tabs: it holds the lock', () => {
    const l = run({ type: 'join' }, { type: 'granted' }, state('t9'));
    expect(l.role).toBe('leader');
    expect(l.leader).toBeNull();
  });

  it('the training tab saying goodbye leaves followers on standby until the lock passes', () => {
    const s = run({ type: 'join' }, state('t1'), { type: 'message', message: { type: 'bye', from: 't1' } });
    expect(s).toEqual({ role: 'standby', leader: null, leaderId: null });
    // A stale goodbye from a tab that is not the one followed changes nothing.
    const f = run({ type: 'join' }, state('t2'), { type: 'message', message: { type: 'bye', from: 't1' } });
    expect(f.leaderId).toBe('t2');
  });

  it('a tab that has not joined mirrors the training tab but stays alone', () => {
    const s = run(state('t1', { epoch: 3 }));
    expect(s.role).toBe('alone');
    expect(s.leader?.epoch).toBe(3);
    expect(tabReducer(s, { type: 'join' }).role).toBe('follower');
  });

  it('parses only well-formed messages', () => {
    expect(parseTabMessage({ type: 'hello', from: 'x' })).toEqual({ type: 'hello', from: 'x' });
    expect(parseTabMessage({ type: 'state', from: 'x', mirror: { ...mirror, participantState: 'dancing' } })).toBeNull();
    expect(parseTabMessage({ type: 'state', from: 'x', mirror: { ...mirror, loss: Number.NaN } })).toBeNull();
    expect(parseTabMessage('hello')).toBeNull();
  });
});
