import { describe, expect, it, vi } from 'vitest';
import { TabCoordinator, type TabChannel, type TabCoordinatorOptions, type TabLocks } from './tabCoordinator';
import type { Mirror, TabView } from './tabElection';

/** The training tab's state; only its round count is carried over by a tab that takes over. */
const mirror: Mirror = { participantState: 'training', connected: true, backend: 'cpu', round: 4, epoch: 1, epochs: 3, loss: null, roundsDone: 3, currentVersion: 3, studyStatus: 'running' };

/** One browser's BroadcastChannels: a message reaches every other open channel of its name, later. */
function channels() {
  const open = new Set<{ name: string; channel: TabChannel }>();
  const sent: unknown[] = [];
  const openChannel = (name: string): TabChannel => {
    const entry = {
      name,
      channel: {
        onmessage: null,
        postMessage(message: unknown) {
          sent.push(message);
          for (const other of open) {
            if (other === entry || other.name !== name) continue;
            setTimeout(() => other.channel.onmessage?.({ data: structuredClone(message) } as MessageEvent));
          }
        },
        close: () => open.delete(entry),
      } as TabChannel,
    };
    open.add(entry);
    return entry.channel;
  };
  return { openChannel, sent };
}

/** One browser's Web Locks: granted in request order, each held until its callback's promise settles. */
function webLocks(): TabLocks {
  const held = new Set<string>();
  const waiting: { name: string; signal: AbortSignal; grant: () => void }[] = [];
  const next = (name: string) => {
    const w = waiting.find((x) => x.name === name);
    if (!w) return;
    waiting.splice(waiting.indexOf(w), 1);
    w.grant();
  };
  return {
    request(name, { signal }, callback) {
      return new Promise((resolve, reject) => {
        const grant = () => {
          held.add(name);
          Promise.resolve(callback())
            .then(resolve, reject)
            .finally(() => {
              held.delete(name);
              setTimeout(() => next(name));
            });
        };
        signal.addEventListener('abort', () => {
          const i = waiting.findIndex((x) => x.grant === grant);
          if (i < 0) return;
          waiting.splice(i, 1);
          reject(new DOMException('aborted', 'AbortError'));
        });
        waiting.push({ name, signal, grant });
        if (!held.has(name)) setTimeout(() => next(name));
      });
    },
  };
}

function tab(shared: Pick<TabCoordinatorOptions, 'locks' | 'openChannel'>, state: Mirror = mirror) {
  const views: TabView[] = [];
  const onLead = vi.fn();
  const onPause = vi.fn();
  const onResume = vi.fn();
  const coordinator = new TabCoordinator({
    siteId: 'hospital-a',
    studyId: 'heart-demo',
    onView: (v) => views.push(v),
    onLead,
    mirror: () => state,
    onPause,
    onResume,
    ...shared,
  });
  const role = () => views[views.length - 1]?.role ?? 'alone';
  return { coordinator, views, role, onLead, onPause, onResume };
}

describe('tab coordinator', () => {
  it('without Web Locks, a tab leads as soon as it joins', () => {
    const { openChannel } = channels();
    const a = tab({ locks: null, openChannel });
    a.coordinator.join();
    expect(a.views.map((v) => v.role)).toEqual(['standby', 'leader']);
    expect(a.onLead).toHaveBeenCalledWith(null);
    a.coordinator.close();
  });

  it('one tab trains, another follows its mirrored state and takes over when it closes', async () => {
    const { openChannel, sent } = channels();
    const locks = webLocks();
    const a = tab({ locks, openChannel });
    a.coordinator.join();
    await vi.waitFor(() => expect(a.role()).toBe('leader'));
    expect(a.onLead).toHaveBeenCalledWith(null);

    // A second tab asks where the training tab is and is answered with its state.
    const b = tab({ locks, openChannel });
    b.coordinator.join();
    expect(b.role()).toBe('standby');
    await vi.waitFor(() => expect(b.role()).toBe('follower'));
    expect(b.views[b.views.length - 1]).toEqual({ role: 'follower', leader: mirror, leaderId: a.coordinator.tabId });

    // The same state is told once; a change reaches the follower.
    const before = sent.length;
    a.coordinator.share(mirror);
    a.coordinator.share(mirror);
    const later = { ...mirror, epoch: 3 };
    a.coordinator.share(later);
    a.coordinator.share(later);
    expect(sent.length).toBe(before + 1);
    await vi.waitFor(() => expect(b.views[b.views.length - 1].leader).toEqual(later));

    // The training tab closes: it says goodbye, then the lock passes to the follower, which takes over
    // from the tab it followed.
    a.coordinator.close();
    expect(sent[sent.length - 1]).toEqual({ type: 'bye', from: a.coordinator.tabId });
    await vi.waitFor(() => expect(b.role()).toBe('leader'));
    expect(b.onLead).toHaveBeenCalledWith(later);
    expect(b.views.map((v) => v.role)).toEqual(['standby', 'follower', 'follower', 'standby', 'leader']);
    b.coordinator.close();
  });

  it('a tab closed while it waits for the lock never leads', async () => {
    const { openChannel } = channels();
    const locks = webLocks();
    const a = tab({ locks, openChannel });
    a.coordinator.join();
    await vi.waitFor(() => expect(a.role()).toBe('leader'));
    const b = tab({ locks, openChannel });
    b.coordinator.join();
    b.coordinator.close();
    a.coordinator.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(b.onLead).not.toHaveBeenCalled();
    expect(b.role()).not.toBe('leader');
  });
});
