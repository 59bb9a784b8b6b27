import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { backendNameSchema, participantStateSchema } from '../../shared/protocol/schemas';
import { Presence, type PresenceEntry } from '../realtime/presence';

export interface SharedPresenceOptions {
  /** This process's name among those sharing the Redis: unique per process, stable for its life. */
  processId: string;
  /** Prefix of every key this class writes (default 'consilium:'). */
  prefix?: string;
  /** How often this process says it is alive and reads the others (default 1000 ms). */
  heartbeatMs?: number;
  /** A process silent this long is dead: its entries are dropped and its hash deleted (default 5000 ms). */
  deadAfterMs?: number;
  /** Where Redis failures are reported; they never throw into the socket handlers. */
  log?: Logger;
}

/** A participant whose cluster-wide online status changed because of another process. */
export interface RemotePresenceChange {
  studyId: string;
  participantId: string;
  online: boolean;
}

/** What one process publishes per participant: Redis data is read back through zod like any input. */
const publishedSchema = z.object({
  studyId: z.string(),
  siteId: z.string(),
  sockets: z.array(z.string()),
  state: participantStateSchema,
  backend: backendNameSchema.nullable(),
  round: z.number().nullable(),
  epoch: z.number().nullable(),
  epochs: z.number().nullable(),
  loss: z.number().nullable(),
  /** When the publishing process wrote it (its clock): picks the freshest of several remote copies. */
  at: z.number(),
});
type Published = z.infer<typeof publishedSchema>;

interface RemoteEntry extends PresenceEntry {
  at: number;
}

/**
 * Heartbeat on Redis's clock, not ours: processes on different machines disagree about the time, and
 * a skew near `deadAfterMs` would declare a live process dead. The hash's expiry is pushed back too,
 * so a process that dies unseen (no peer left to reap it) leaves nothing behind for long. Returns 1
 * when this process was not in the set, or its hash is gone (first beat; reaped or expired during a
 * long pause): it must publish its entries again.
 */
const HEARTBEAT = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = redis.call('zadd', KEYS[1], now, ARGV[1])
local kept = redis.call('pexpire', KEYS[2], ARGV[2])
if added == 1 or kept == 0 then return 1 end
return 0
`;

/**
 * Reaps the processes whose last heartbeat is older than ARGV[1] ms (deleting their hashes, named
 * ARGV[2] .. id) and lists the live ones, in one step, so no process is reaped between a heartbeat
 * and the check. Keys are built inside the script: fine on one Redis, not on Redis Cluster.
 */
const REAP_AND_LIST = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('zrangebyscore', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
for _, id in ipairs(dead) do
  redis.call('zrem', KEYS[1], id)
  redis.call('del', ARGV[2] .. id)
end
return redis.call('zrange', KEYS[1], 0, -1)
`;

/**
 * Presence over every server process sharing one Redis. Each process owns what its own sockets say,
 * as in one-process mode, and publishes it to `<prefix>presence:<processId>` (participant → JSON);
 * every `heartbeatMs` it marks itself alive in `<prefix>processes` and mirrors the other live
 * processes' hashes. Reads stay synchronous (the coordinator and dashboards call them in loops) and
 * answer from this process's entries and the mirror, so another process's change shows after at most
 * one heartbeat plus a round trip.
 */
export class SharedPresence extends Presence {
  readonly processId: string;
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  private readonly log?: Logger;
  private readonly hashKey: string;
  private readonly processesKey: string;

  /** participantId → its copies on other live processes, from the last sync. */
  private remote = new Map<string, RemoteEntry[]>();
  private live: string[] = [];
  private lastSyncOkAt = Date.now();

  /** Writes not yet sent: the latest JSON per participant wins. */
  private pendingWrites = new Map<string, string>();
  private writing: Promise<void> | null = null;
  private syncing: Promise<void> = Promise.resolve();
  private ticking: Promise<void> = Promise.resolve();
  private inTick = false;
  /** A write failed: Redis may lack some of this process's entries until it republishes them all. */
  private stale = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failing = false;
  private listeners: ((c: RemotePresenceChange) => void)[] = [];

  constructor(
    private readonly redis: Redis,
    opts: SharedPresenceOptions,
  ) {
    super();
    if (!opts.processId) throw new Error('SharedPresence needs a processId');
    this.processId = opts.processId;
    this.prefix = opts.prefix ?? 'consilium:';
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.deadAfterMs = opts.deadAfterMs ?? 5000;
    if (!(this.deadAfterMs > this.heartbeatMs)) throw new Error('SharedPresence: deadAfterMs must exceed heartbeatMs, or live processes are reaped');
    this.log = opts.log;
    this.hashKey = `${this.prefix}presence:${this.processId}`;
    this.processesKey = `${this.prefix}processes`;
    this.timer = setInterval(() => this.startTick(), this.heartbeatMs);
    this.timer.unref?.();
    this.startTick();
  }

  /** Told when another process's change makes a participant appear or leave, cluster-wide (not for this process's own sockets). */
  onRemoteChange(listener: (c: RemotePresenceChange) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  /** The processes alive at the last sync, this one included once it has beaten. */
  liveProcesses(): string[] {
    return [...this.live];
  }

  // ---- writes: this process's entries, published in order ----

  protected override changed(entry: PresenceEntry): void {
    if (this.closed) return;
    this.pendingWrites.set(entry.participantId, JSON.stringify(publish(entry, Date.now())));
    this.kickWrites();
  }

  /** Resolves once every change made so far is in Redis (or has failed and been logged). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private kickWrites(): void {
    if (this.writing || this.closed) return;
    this.writing = this.drainWrites().finally(() => {
      this.writing = null;
      if (this.pendingWrites.size > 0 && !this.closed) this.kickWrites();
    });
  }

  /** One batch at a time, so a participant's writes reach Redis in the order they were made. */
  private async drainWrites(): Promise<void> {
    while (this.pendingWrites.size > 0) {
      const batch = this.pendingWrites;
      this.pendingWrites = new Map();
      const m = this.redis.multi();
      for (const [id, json] of batch) m.hset(this.hashKey, id, json);
      // Never a hash without an expiry, even one written just before this process died.
      m.pexpire(this.hashKey, 2 * this.deadAfterMs);
      try {
        await m.exec();
        this.recovered();
      } catch (err) {
        this.stale = true;
        this.failed(err, 'could not publish presence to Redis');
      }
    }
  }

  /** Everything this process knows, written again: after it was reaped for silence, its hash is gone. */
  private republishAll(): void {
    if (this.closed) return;
    this.stale = false;
    const now = Date.now();
    for (const e of this.entries.values()) this.pendingWrites.set(e.participantId, JSON.stringify(publish(e, now)));
    if (this.pendingWrites.size > 0) this.kickWrites();
  }

  // ---- heartbeat and sync ----

  private startTick(): void {
    // A tick still waiting on a slow Redis is not stacked on.
    if (this.inTick) return;
    this.inTick = true;
    this.ticking = this.tick().finally(() => (this.inTick = false));
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.beat();
      await this.sync();
    } catch (err) {
      this.failed(err, 'presence heartbeat failed');
      // Without Redis the mirror goes stale; past the point where a peer would be declared dead, forget it
      // rather than keep counting tabs that may be long gone.
      if (Date.now() - this.lastSyncOkAt > this.deadAfterMs) this.applyMirror(new Map(), this.live.includes(this.processId) ? [this.processId] : []);
    }
  }

  private async beat(): Promise<void> {
    const lost = (await this.redis.eval(HEARTBEAT, 2, this.processesKey, this.hashKey, this.processId, String(2 * this.deadAfterMs))) as number;
    if (lost === 1 || this.stale) this.republishAll();
  }

  /** Reaps dead processes and mirrors the live ones' entries. Calls are serialised, so results apply in order. */
  sync(): Promise<void> {
    const run = this.syncing.then(() => this.syncNow());
    this.syncing = run.catch(() => {});
    return run;
  }

  private async syncNow(): Promise<void> {
    if (this.closed) return;
    const live = (await this.redis.eval(REAP_AND_LIST, 1, this.processesKey, String(this.deadAfterMs), `${this.prefix}presence:`)) as string[];
    const others = live.filter((id) => id !== this.processId);
    const p = this.redis.pipeline();
    for (const id of others) p.hgetall(`${this.prefix}presence:${id}`);
    const results = others.length ? ((await p.exec()) ?? []) : [];
    const mirror = new Map<string, RemoteEntry[]>();
    results.forEach(([err, hash], i) => {
      if (err) throw err;
      for (const [participantId, json] of Object.entries(hash as Record<string, string>)) {
        const entry = parsePublished(participantId, json);
        if (!entry) {
          this.log?.warn({ processId: others[i], participantId }, 'ignored an unreadable presence entry in Redis');
          continue;
        }
        const list = mirror.get(participantId);
        if (list) list.push(entry);
        else mirror.set(participantId, [entry]);
      }
    });
    if (this.closed) return;
    this.lastSyncOkAt = Date.now();
    this.recovered();
    this.applyMirror(mirror, live);
  }

  private applyMirror(mirror: Map<string, RemoteEntry[]>, live: string[]): void {
    const before = this.remote;
    this.remote = mirror;
    this.live = live;
    if (this.listeners.length === 0) return;
    const ids = new Set([...before.keys(), ...mirror.keys()]);
    for (const id of ids) {
      if ((this.entries.get(id)?.sockets.size ?? 0) > 0) continue; // this process's own sockets speak for it
      const was = onlineCopy(before.get(id));
      const is = onlineCopy(mirror.get(id));
      if (!!was === !!is) continue;
      const change = { studyId: (is ?? was)!.studyId, participantId: id, online: !!is };
      for (const l of this.listeners) {
        try {
          l(change);
        } catch (err) {
          this.log?.error({ err }, 'a presence listener threw');
        }
      }
    }
  }

  /** Stops beating and deletes what this process published: its tabs are no longer here. */
  async close(): Promise<void> {
    this.stopHeartbeat();
    await this.ticking;
    await this.flush();
    this.closed = true;
    await this.syncing;
    try {
      await this.redis.multi().del(this.hashKey).zrem(this.processesKey, this.processId).exec();
    } catch (err) {
      this.failed(err, 'could not remove this process from Redis presence');
    }
  }

  /** Stops the timer and nothing else, as a killed process would: for tests of dead-process reaping. */
  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ---- reads: this process's entries and the mirror, a participant on two processes once ----

  override get(participantId: string): PresenceEntry | undefined {
    const local = this.entries.get(participantId);
    if (local && local.sockets.size > 0) return local;
    const copies = this.remote.get(participantId);
    if (!copies) return local;
    // Connected somewhere beats a disconnected copy, however recent; the freshest among equals.
    return onlineCopy(copies) ?? local ?? freshest(copies);
  }

  override isOnline(participantId: string): boolean {
    return (this.entries.get(participantId)?.sockets.size ?? 0) > 0 || !!onlineCopy(this.remote.get(participantId));
  }

  override connectedSites(): number {
    const sites = new Set<string>();
    for (const e of this.entries.values()) if (e.sockets.size > 0) sites.add(e.siteId);
    for (const copies of this.remote.values()) for (const e of copies) if (e.sockets.size > 0) sites.add(e.siteId);
    return sites.size;
  }

  override online(studyId: string): string[] {
    const ids = new Set<string>();
    for (const e of this.entries.values()) if (e.studyId === studyId && e.sockets.size > 0) ids.add(e.participantId);
    for (const [id, copies] of this.remote) if (copies.some((e) => e.studyId === studyId && e.sockets.size > 0)) ids.add(id);
    return [...ids].sort();
  }

  // ---- failures: logged once per outage, not once a second ----

  private failed(err: unknown, message: string): void {
    if (this.failing) return;
    this.failing = true;
    this.log?.warn({ err, processId: this.processId }, `${message}; presence falls back to this process until Redis answers`);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log?.info({ processId: this.processId }, 'Redis presence recovered');
  }
}

function publish(e: PresenceEntry, at: number): Published {
  return { studyId: e.studyId, siteId: e.siteId, sockets: [...e.sockets], state: e.state, backend: e.backend, round: e.round, epoch: e.epoch, epochs: e.epochs, loss: e.loss, at };
}

function parsePublished(participantId: string, json: string): RemoteEntry | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const r = publishedSchema.safeParse(raw);
  if (!r.success) return null;
  return { ...r.data, participantId, sockets: new Set(r.data.sockets) };
}

function freshest(copies: RemoteEntry[]): RemoteEntry | undefined {
  let best: RemoteEntry | undefined;
  for (const c of copies) if (!best || c.at > best.at) best = c;
  return best;
}

function onlineCopy(copies: RemoteEntry[] | undefined): RemoteEntry | undefined {
  return copies ? freshest(copies.filter((c) => c.sockets.size > 0)) : undefined;
}
