import type { RoundTimeline } from '../../shared/protocol/roundDetail';

export interface TimelineInput {
  openedAt: Date;
  deadline: Date;
  closedAt: Date | null;
  /** The round's version's creation time (null: the round wrote none). */
  publishedAt: Date | null;
  aggregationStartedAt: Date | null;
  /** When each accepted update arrived, and whether it was on time (late ones do not count toward the quorum). */
  updates: readonly { receivedAt: Date; onTime: boolean }[];
  /** On-time updates the round needs: min(minUpdates, sampled). */
  needed: number;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/**
 * A round's timeline from its rows. The quorum is the moment the `needed`-th on-time update was
 * accepted, counted in arrival order; a round that never had that many has none.
 */
export function roundTimeline(i: TimelineInput): RoundTimeline {
  const all = [...i.updates].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  const onTime = all.filter((u) => u.onTime);
  const quorum = i.needed > 0 && onTime.length >= i.needed ? onTime[i.needed - 1].receivedAt : null;
  return {
    openedAt: i.openedAt.toISOString(),
    deadline: i.deadline.toISOString(),
    firstUpdateAt: iso(all[0]?.receivedAt),
    quorumAt: iso(quorum),
    lastUpdateAt: iso(all.at(-1)?.receivedAt),
    aggregationStartedAt: iso(i.aggregationStartedAt),
    closedAt: iso(i.closedAt),
    publishedAt: iso(i.publishedAt),
  };
}

/** The norm a refusal for exceeding the study's hard bound states in its reason (intake writes "L2 norm <n> exceeds"). */
export function refusedNorm(code: string, reason: string): number | null {
  if (code !== 'update_norm_exceeded') return null;
  const m = /L2 norm (\S+) exceeds/.exec(reason);
  const n = m ? Number(m[1]) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}
