import { count } from 'drizzle-orm';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClientToServerEvents } from '../../shared/protocol/events';
import { ErrorCode } from '../../shared/protocol/errors';
import { roundStatusSchema } from '../../shared/protocol/schemas';
import type { Db } from '../db/client';
import { rounds } from '../db/schema';
import type { Presence } from '../realtime/presence';

/**
 * The server's Prometheus metrics. The product's own (`consilium_*`) are on a registry of each app's
 * own (never prom-client's global one), so that several apps in one process, as tests build them,
 * each count only their own.
 *
 * Node's default metrics (process memory and CPU, event-loop lag, heap, GC, handles) describe the
 * process, not an app: they are collected once per process, on a registry of their own, and served
 * with every app's. Collecting them per app would start one more event-loop monitor and GC observer
 * with each, never stopped. They keep their standard names (`process_resident_memory_bytes`,
 * `nodejs_eventloop_lag_seconds`, …): the ready-made Node.js dashboards and alerts expect them, and
 * Prometheus's `job` and `instance` labels already say which server they come from.
 */

/** A received Socket.IO event's label: one of the typed event map's names, anything else `unknown`. */
export type SocketEventLabel = keyof ClientToServerEvents | 'unknown';

/** What the round coordinator reports (server/rounds): uploads taken or refused, aggregation time. */
export interface RoundMetrics {
  uploadAccepted(): void;
  /** `code`: the refusal's error code (shared/protocol/errors.ts); anything else counts as `other`. */
  uploadRefused(code: string): void;
  /** Starts timing one round's aggregation; call what it returns when the aggregation has ended. */
  aggregationStarted(): () => void;
}

/** What the Socket.IO layer reports (server/realtime/socket.ts). */
export interface RealtimeMetrics {
  socketEvent(event: SocketEventLabel): void;
}

export interface Metrics extends RoundMetrics, RealtimeMetrics {
  /** This app's own metrics. */
  readonly registry: Registry;
  /** The exposition's media type (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** Everything, this app's and the process's, in Prometheus's text format. */
  exposition(): Promise<string>;
}

export interface MetricsDeps {
  db: Db;
  presence: Pick<Presence, 'connectedSites'>;
  log?: Pick<Logger, 'warn'>;
  /** Serve Node's process and runtime metrics too (default true). */
  defaultMetrics?: boolean;
}

/**
 * A round's aggregation takes milliseconds for the templates' small models and can take minutes for
 * a large model under a robust rule (median, Krum read every update in blocks): 10 ms to 10 min.
 */
export const AGGREGATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const refusalCodes = new Set<string>(Object.values(ErrorCode));

let processRegistry: Registry | null = null;

/** Node's default metrics, for the whole process: started on first use, once. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const shared = deps.defaultMetrics === false ? null : processMetrics();

  new Gauge({
    name: 'consilium_rounds',
    help: 'Rounds of every study by status, counted in the database at each scrape.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      try {
        const rows = await deps.db.select({ status: rounds.status, n: count() }).from(rounds).groupBy(rounds.status);
        const byStatus = new Map(rows.map((r) => [r.status, Number(r.n)]));
        // Every status always has a sample (0 when none), so a query over it never finds a gap.
        for (const status of roundStatusSchema.options) this.set({ status }, byStatus.get(status) ?? 0);
      } catch (err) {
        // The scrape still answers with everything else; the rounds are left out, not reported as zero.
        this.reset();
        deps.log?.warn({ err }, 'metrics: could not count the rounds');
      }
    },
  });

  new Gauge({
    name: 'consilium_connected_sites',
    help: 'Sites with at least one tab connected to this server process.',
    registers: [registry],
    collect() {
      this.set(deps.presence.connectedSites());
    },
  });

  const uploads = new Counter({
    name: 'consilium_uploads_total',
    help: 'Model updates received: accepted, or refused with the reason (its error code).',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  });
  uploads.inc({ outcome: 'accepted' }, 0);

  const aggregation = new Histogram({
    name: 'consilium_aggregation_seconds',
    help: "Time from a round's close to its new model version written (or its aggregation given up).",
    buckets: AGGREGATION_BUCKETS,
    registers: [registry],
  });

  const socketEvents = new Counter({
    name: 'consilium_socket_events_total',
    help: 'Socket.IO events received from clients, by event name (names outside the protocol count as unknown).',
    labelNames: ['event'] as const,
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    exposition: () => (shared ? Registry.merge([shared, registry]) : registry).metrics(),
    uploadAccepted: () => uploads.inc({ outcome: 'accepted' }),
    uploadRefused: (code) => uploads.inc({ outcome: 'refused', reason: refusalCodes.has(code) ? code : 'other' }),
    aggregationStarted: () => {
      const end = aggregation.startTimer();
      return () => void end();
    },
    socketEvent: (event) => socketEvents.inc({ event }),
  };
}
