import { z } from 'zod';
import { backendNameSchema, participantStateSchema, studyStatusSchema } from '../../shared/protocol/schemas';

/**
 * Several tabs of one hospital share the browser profile's IndexedDB, so exactly one of them trains:
 * the holder of a Web Lock per site and study. The others mirror its state over a BroadcastChannel.
 * This module is the pure part: names, the message schema and the role state machine.
 */

export const trainerLockName = (siteId: string, studyId: string) => `consilium-trainer:${siteId}:${studyId}`;
export const tabChannelName = (siteId: string, studyId: string) => `consilium-tabs:${siteId}:${studyId}`;

/** What the training tab tells the others about itself. */
export const mirrorSchema = z.object({
  participantState: participantStateSchema,
  connected: z.boolean(),
  backend: backendNameSchema.nullable(),
  round: z.number().int().min(0).nullable(),
  epoch: z.number().int().min(0).nullable(),
  epochs: z.number().int().min(0).nullable(),
  loss: z.number().finite().nullable(),
  roundsDone: z.number().int().min(0),
  currentVersion: z.number().int().min(0).nullable(),
  studyStatus: studyStatusSchema.nullable(),
});
export type Mirror = z.infer<typeof mirrorSchema>;

export const tabMessageSchema = z.discriminatedUnion('type', [
  /** The training tab's state, sent on every change and in answer to `hello`. */
  z.object({ type: z.literal('state'), from: z.string().min(1), mirror: mirrorSchema }),
  /** A tab that started waiting for the lock asks the training tab to say where it is. */
  z.object({ type: z.literal('hello'), from: z.string().min(1) }),
  /** The training tab is going away (closing, navigating): stop showing its state. */
  z.object({ type: z.literal('bye'), from: z.string().min(1) }),
]);
export type TabMessage = z.infer<typeof tabMessageSchema>;

/** A message from another tab, or null if it is not one of ours (another version, garbage). */
export function parseTabMessage(data: unknown): TabMessage | null {
  const r = tabMessageSchema.safeParse(data);
  return r.success ? r.data : null;
}

/**
 * alone: not joined, trains nothing. standby: joined, waiting for the lock, no training tab heard.
 * follower: joined, another tab trains and this one shows its state. leader: holds the lock, trains.
 */
export type TabRole = 'alone' | 'standby' | 'follower' | 'leader';

export interface TabView {
  role: TabRole;
  /** The training tab's latest state, while this tab follows it. */
  leader: Mirror | null;
  /** Which tab that is. */
  leaderId: string | null;
}

export const initialTabView: TabView = { role: 'alone', leader: null, leaderId: null };

export type TabEvent =
  | { type: 'join' }
  | { type: 'granted' }
  | { type: 'message'; message: TabMessage }
  | { type: 'released' };

export function tabReducer(s: TabView, e: TabEvent): TabView {
  switch (e.type) {
    case 'join':
      return s.role === 'alone' ? { ...s, role: s.leader ? 'follower' : 'standby' } : s;
    case 'granted':
      // The lock is the only truth: whoever held it is gone.
      return { role: 'leader', leader: null, leaderId: null };
    case 'released':
      return s.role === 'leader' ? initialTabView : s;
    case 'message': {
      const m = e.message;
      if (s.role === 'leader' || m.type === 'hello') return s;
      if (m.type === 'bye') {
        if (s.leaderId !== m.from) return s;
        return { role: s.role === 'alone' ? 'alone' : 'standby', leader: null, leaderId: null };
      }
      return { role: s.role === 'alone' ? 'alone' : 'follower', leader: m.mirror, leaderId: m.from };
    }
  }
}

/** Whether this tab trains: only the lock holder does. */
export const trainsHere = (s: TabView) => s.role === 'leader';
