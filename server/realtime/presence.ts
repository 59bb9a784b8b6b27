import type { BackendName, ParticipantState, ProgressReport } from '../../shared/protocol/schemas';

export interface PresenceEntry {
  participantId: string;
  studyId: string;
  siteId: string;
  sockets: Set<string>;
  state: ParticipantState;
  backend: BackendName | null;
  round: number | null;
  epoch: number | null;
  epochs: number | null;
  loss: number | null;
}

/**
 * Who is connected right now, and what their tab last said it was doing. Lives in this process only;
 * server/cluster/sharedPresence.ts extends it to every process sharing one Redis.
 */
export class Presence {
  protected entries = new Map<string, PresenceEntry>();

  /** Called after an entry's sockets or reported state changed: a subclass publishes it elsewhere. */
  protected changed(_entry: PresenceEntry): void {}

  connect(participantId: string, studyId: string, siteId: string, socketId: string): PresenceEntry {
    let e = this.entries.get(participantId);
    if (!e) {
      e = { participantId, studyId, siteId, sockets: new Set(), state: 'idle', backend: null, round: null, epoch: null, epochs: null, loss: null };
      this.entries.set(participantId, e);
    }
    e.sockets.add(socketId);
    this.changed(e);
    return e;
  }

  /** Returns the participants this socket was the last connection of. */
  disconnect(socketId: string): PresenceEntry[] {
    const gone: PresenceEntry[] = [];
    for (const e of this.entries.values()) {
      if (!e.sockets.delete(socketId)) continue;
      if (e.sockets.size === 0) {
        // A tab that said the browser was suspending it is expected to go quiet: keep its word for it.
        if (e.state !== 'suspended') e.state = 'offline';
        gone.push(e);
      }
      this.changed(e);
    }
    return gone;
  }

  report(participantId: string, p: ProgressReport): void {
    const e = this.entries.get(participantId);
    if (!e) return;
    e.state = p.state;
    if (p.backend) e.backend = p.backend;
    if (p.round !== undefined) e.round = p.round;
    if (p.epoch !== undefined) e.epoch = p.epoch;
    if (p.epochs !== undefined) e.epochs = p.epochs;
    if (p.loss !== undefined) e.loss = p.loss;
    this.changed(e);
  }

  get(participantId: string): PresenceEntry | undefined {
    return this.entries.get(participantId);
  }

  isOnline(participantId: string): boolean {
    return (this.entries.get(participantId)?.sockets.size ?? 0) > 0;
  }

  /** Distinct sites with at least one tab connected, over every study. */
  connectedSites(): number {
    const sites = new Set<string>();
    for (const e of this.entries.values()) if (e.sockets.size > 0) sites.add(e.siteId);
    return sites.size;
  }

  online(studyId: string): string[] {
    return [...this.entries.values()]
      .filter((e) => e.studyId === studyId && e.sockets.size > 0)
      .map((e) => e.participantId)
      .sort();
  }
}
