import type { Logger } from 'pino';
import postgres from 'postgres';

/** The advisory locks' first key: "Stdy". The second is the study id's hashtext. */
export const STUDY_LEASE_KEY = 0x53746479;

export interface StudyLeasesOptions {
  /** The database: the leases get a connection of their own, whose session holds the locks. */
  url: string;
  /** Its application_name (pg_stat_activity then says which process holds which study). */
  applicationName?: string;
  log: Logger;
  /** How often free studies are tried and held ones checked (ms). A dead process's studies are taken within about this. Default 1000. */
  intervalMs?: number;
  /** This process now coordinates the study: rebuild its state (Coordinator.adopt). */
  acquired(studyId: string): Promise<void>;
  /** This process no longer coordinates the study: drop its state (Coordinator.relinquish). */
  lost(studyId: string): Promise<void>;
}

/**
 * Coordination per study, not per server: a process coordinates a study while it holds the study's
 * session-level advisory lock on a connection of its own. A process killed outright loses its
 * connection, PostgreSQL frees its locks at once, and the next tick of any other process takes them
 * over. Every tick also reads back which locks this session really holds (pg_locks), so a connection
 * that was lost and replaced underneath cannot leave a process believing it still leads.
 *
 * A process takes every free study it sees (no fair share yet: the first process up leads them all,
 * and the others take over when it dies or drains).
 */
/** A lease query that takes longer than this means the connection is gone: its locks are let go. */
const QUERY_TIMEOUT_MS = 5_000;

export class StudyLeases {
  private readonly held = new Set<string>();
  private connection: postgres.Sql | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private draining = false;

  constructor(private readonly opts: StudyLeasesOptions) {}

  /** Whether this process coordinates the study now. */
  leads(studyId: string): boolean {
    return !this.draining && this.held.has(studyId);
  }

  /** The studies this process coordinates. */
  studies(): string[] {
    return [...this.held].sort();
  }

  /** Takes what is free now, then keeps trying every interval. */
  async start(): Promise<void> {
    await this.tickNow();
    const every = this.opts.intervalMs ?? 1000;
    const loop = () => {
      this.timer = setTimeout(() => void this.tickNow().finally(() => !this.stopped && loop()), every);
      this.timer.unref?.();
    };
    loop();
  }

  /** One look: which of the held locks are still held, and which free studies can be taken. Serialised. */
  tickNow(): Promise<void> {
    this.running = this.running.then(() => this.tick()).catch((err) => this.opts.log.error({ err }, 'study leases: tick failed'));
    return this.running;
  }

  /**
   * One connection, never recycled (postgres.js would renew it every 30–60 minutes, and the locks with
   * it). When it closes, whatever the cause, the locks are gone: every study is let go at once, before
   * another process can take one over, and the next tick starts a new session.
   */
  private open(): postgres.Sql {
    const c = postgres(this.opts.url, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      onnotice: () => {},
      ...(this.opts.applicationName ? { connection: { application_name: this.opts.applicationName } } : {}),
      onclose: () => {
        if (this.connection !== c) return;
        this.connection = null;
        void c.end({ timeout: 0 }).catch(() => undefined);
        if (this.held.size) this.opts.log.error('study leases: the lock connection closed; this process coordinates nothing until it takes studies again');
        for (const id of [...this.held]) void this.drop(id, 'the lock connection closed');
      },
    });
    return c;
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.draining) return;
    let taken: string[];
    const c = (this.connection ??= this.open());
    const timeout = <T>(q: Promise<T>): Promise<T> =>
      Promise.race([q, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${QUERY_TIMEOUT_MS} ms`)), QUERY_TIMEOUT_MS).unref())]);
    try {
      const mine = await timeout(c<{ id: string }[]>`
        select s.id from studies s join pg_locks l
          on l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted and l.classid = ${STUDY_LEASE_KEY}::oid
          and l.objid = (hashtext(s.id)::bigint & 4294967295)::oid and l.objsubid = 2`);
      const still = new Set(mine.map((r) => r.id));
      for (const id of [...this.held]) if (!still.has(id)) await this.drop(id, 'its lock was lost');
      const rows = await timeout(c<{ id: string; ok: boolean }[]>`
        select id, pg_try_advisory_lock(${STUDY_LEASE_KEY}, hashtext(id)) as ok
        from studies where status <> 'completed' and not (id = any(${[...this.held]}::text[]))`);
      taken = rows.filter((r) => r.ok).map((r) => r.id);
    } catch (err) {
      // The connection is gone, and the locks with it: another process takes the studies over.
      this.opts.log.error({ err }, 'study leases: the lock connection failed; this process coordinates nothing until it is back');
      for (const id of [...this.held]) await this.drop(id, 'the lock connection failed');
      if (this.connection === c) this.connection = null;
      // Ending the session frees any lock it still holds (a slow answer may have taken one).
      await c.end({ timeout: 0 }).catch(() => undefined);
      return;
    }
    for (const id of taken) {
      // The session ended while the answer came back: the lock went with it.
      if (this.connection !== c) break;
      this.held.add(id);
      this.opts.log.info({ studyId: id }, 'coordinating study');
      await this.opts.acquired(id).catch((err) => this.opts.log.error({ err, studyId: id }, 'could not take the study over'));
    }
  }

  private async drop(studyId: string, why: string): Promise<void> {
    if (!this.held.delete(studyId)) return;
    this.opts.log.warn({ studyId, why }, 'no longer coordinating study');
    await this.opts.lost(studyId).catch((err) => this.opts.log.error({ err, studyId }, 'could not let the study go'));
  }

  /**
   * Draining: stop leading (`leads` is false from now on), let each study's queued work finish and its
   * state go (`lost`), then free the locks so that other processes take the studies within a tick.
   */
  async release(): Promise<void> {
    this.draining = true;
    await this.running;
    const c = this.connection;
    for (const id of [...this.held]) {
      this.held.delete(id);
      await this.opts.lost(id).catch((err) => this.opts.log.error({ err, studyId: id }, 'could not let the study go'));
      if (c) await c`select pg_advisory_unlock(${STUDY_LEASE_KEY}, hashtext(${id}))`.catch(() => undefined);
      this.opts.log.info({ studyId: id }, 'handed the study over');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.draining) await this.release();
    const c = this.connection;
    this.connection = null;
    await c?.end({ timeout: 1 }).catch(() => undefined);
  }
}
