import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { participants, rounds, updates } from '../db/schema';

export type UpdateRow = typeof updates.$inferInsert;
/** What an upload tells of its sender. Its declared samples are not its record count: that is what the tab reported on joining. */
export interface ParticipantSeen {
  participantId: string;
  lastBackend: string;
  lastSeenAt: Date;
}

interface Pending {
  row: UpdateRow;
  seen: ParticipantSeen;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Group commit for accepted updates: rows that arrive while a transaction is writing wait for the
 * next one and go in together (one multi-row insert), so a thousand uploads landing at once cost a
 * few dozen transactions, not a thousand. Each caller's promise resolves once its row is committed.
 * Should a batch fail (a constraint the intake's checks did not foresee), its rows are retried one
 * by one, so one bad row refuses only itself.
 */
export class UpdateRecorder {
  private queue: Pending[] = [];
  private writing = false;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 256,
    /** How long the first row of a batch waits for others (ms): the price of one upload's ack, paid once per batch. */
    private readonly lingerMs = 5,
  ) {}

  record(row: UpdateRow, seen: ParticipantSeen): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, seen, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // Rows arriving within the linger join this transaction: uploads that land together commit together.
      if (this.queue.length >= this.maxBatch) void this.drain();
      else setTimeout(() => void this.drain(), this.lingerMs);
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const recorded = await this.write(batch);
          for (const p of batch) (recorded.has(slotOf(p.row)) ? p.resolve() : p.reject(new NotRecordedError()));
        } catch {
          for (const p of batch)
            await this.write([p]).then(
              (recorded) => (recorded.size ? p.resolve() : p.reject(new NotRecordedError())),
              (err) => p.reject(err),
            );
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * One statement for the batch, atomic without a transaction: the rows inserted, and each sender's
   * latest sighting set, in data-modifying CTEs (a transaction would cost two more round trips to
   * the embedded database, on the event loop's thread). A row goes in only while its round is open,
   * under a share lock on the round's row: the coordinator's close takes that row exclusively before
   * it reads the round's updates, so every row either lands before the close reads or is refused,
   * whichever process took it. A slot already filled (another process took the same sender's update)
   * is skipped, not an error. Returns the slots written.
   */
  private async write(batch: Pending[]): Promise<Set<string>> {
    const rows = sql.join(
      batch.map(({ row: r }) => sql`(${r.roundId}::integer, ${r.participantId}, ${r.idempotencyKey}, ${r.numSamples}::integer, ${r.backend}, ${r.trainLoss ?? null}::double precision,
        ${r.staleness ?? 0}::integer, ${r.weight ?? 1}::double precision, ${r.payloadSha256 ?? null}, ${r.payloadBytes ?? null}::integer, ${r.payloadDataOffset ?? null}::integer,
        ${r.norm ?? null}::double precision, ${r.clipScale ?? 1}::double precision, ${(r.receivedAt ?? new Date()).toISOString()}::timestamptz)`),
      sql`, `,
    );
    // The latest of each participant's sightings in this batch.
    const seen = [...new Map(batch.map((p) => [p.seen.participantId, p.seen])).values()];
    const sightings = sql.join(
      seen.map((s) => sql`(${s.participantId}, ${s.lastBackend}, ${s.lastSeenAt.toISOString()}::timestamptz)`),
      sql`, `,
    );
    const result = await this.db.execute(sql`
      with incoming (round_id, participant_id, idempotency_key, num_samples, backend, train_loss, staleness, weight,
          payload_sha256, payload_bytes, payload_data_offset, norm, clip_scale, received_at) as (values ${rows}),
      recorded as (
        insert into ${updates} (round_id, participant_id, idempotency_key, num_samples, backend, train_loss, staleness, weight,
          payload_sha256, payload_bytes, payload_data_offset, norm, clip_scale, received_at)
        select i.* from incoming i join ${rounds} r on r.id = i.round_id where r.status = 'open' for share of r
        on conflict do nothing
        returning round_id, participant_id, staleness
      ),
      sighted as (
        update ${participants} set last_backend = v.backend, last_seen_at = v.seen
        from (values ${sightings}) as v(id, backend, seen)
        where ${participants.id} = v.id and v.id in (select participant_id from recorded)
        returning 1
      )
      select round_id, participant_id, staleness from recorded`);
    const written = rowsOf<{ round_id: number; participant_id: string; staleness: number }>(result);
    return new Set(written.map((r) => `${r.round_id}/${r.participant_id}/${r.staleness}`));
  }
}

/** An update's slot: one per round, sender and staleness (the table's unique index). */
function slotOf(r: UpdateRow): string {
  return `${r.roundId}/${r.participantId}/${r.staleness ?? 0}`;
}

/** The rows of `db.execute`, whichever driver ran it (postgres.js gives an array, PGlite `{ rows }`). */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * The row was not written: its round is no longer open, or its slot was filled by another process
 * meanwhile. The intake looks again to tell the sender which.
 */
export class NotRecordedError extends Error {
  override name = 'NotRecordedError';
  constructor() {
    super('the update was not recorded: its round closed, or another update took its place');
  }
}
