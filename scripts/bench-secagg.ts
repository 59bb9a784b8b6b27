/**
 * What secure aggregation (Bonawitz et al. 2017, shared/fl/secagg/) costs a round against plaintext
 * FedAvg: bytes per site per round, round trips, and the compute a round takes, for 5, 20 and 100
 * sites at 10 000 and 1 000 000 parameters:
 *
 *   npm run bench:secagg [-- --quick] [--records 500] [--clip 1] [--latency 50] [--fraction-bits F]
 *     [--cells 100x10000,100x1000000+graph] [--clock cpu|wall]
 *
 * Everything runs in this process with the real code, no network: n sites as SecureParty
 * (shared/fl/secagg/party.ts, what a hospital tab runs) and the server's SecureRound
 * (server/secagg/secureRound.ts), its relayed messages taken from its `toParticipant` hook. The round
 * is set up as server/secagg/secureRounds.ts sets it up: the ring from chooseRing(sites, weightCap,
 * clip), the threshold ⌊n/2⌋ + 1, every site holding `--records` training records and the weight cap
 * the default study gives (weightCapFactor 2 × the median count). The model is the dense bench
 * template of about P parameters (shared/tasks/denseBench.ts).
 *
 * Bytes, per site per round, both directions, as they go on the wire (site 0; every site sends and
 * receives the same sizes):
 *   plaintext  the model download (server/studies/service.ts encodeModel's container) + the update
 *              upload (web/training/transfer.ts encodeUpdate's, the codec of every study); both are
 *              built here with shared/weights/codec.ts encodeWeights exactly as those functions
 *              build them (web/ is browser code, the server module opens the database)
 *   secure     the same download + round:open's secureAggregation field + secagg:advertise and its
 *              ack + the relayed secagg:keys + its secagg:shares and their ack + the secagg:shares
 *              relayed to it + the masked input (shared/fl/secagg/wire.ts) + secagg:unmask + its
 *              secagg:reveal and its ack
 * HTTP bodies count as their bytes; a Socket.IO message as its engine.io text packet
 * (`42[event,payload]`, `43<id>[ack]`, JSON) in a WebSocket frame (2 to 10 bytes of header, 4 more
 * for the client's mask). Left out on both sides: HTTP and TLS headers, and the messages both kinds
 * of round send alike (round:open but for its secureAggregation field, round:closed, the receipt).
 *
 * Round trips: the site's requests that wait for the server (an HTTP request, a Socket.IO emit
 * with an ack); the server's pushes are not round trips. Each sequential protocol step adds one.
 *
 * Round time, compute only, in this process (no training, no network; the download is alike), in
 * CPU time (`--clock wall`: elapsed time; on a loaded machine that counts the waits for a core):
 *   site       plaintext: encodeUpdate of its delta; secure: key generation (open), sharing
 *              (shareKeys: t-of-n Shamir and n−1 sealed pairs), masking (the ring input, n−1 opened
 *              shares, n−1 ECDH agreements, n AES-CTR mask expansions of d words, encodeMasked) and
 *              its unmasking answer (reveal), one after the other with nothing else running
 *   server     plaintext: n × (decodeWeights + FixedPointSum.add, the server's exact fold) + mean;
 *              secure: relaying keys and shares, n × (decodeMasked + the ring sum) of the masked
 *              inputs, the reveals and unmaskSum, decodeFixed and the mean. Once with every site,
 *              once with the last site gone before masking (its pairwise masks rebuilt with each
 *              survivor), so the dropout row does n−1 (over a sparse graph k) more ECDH and AES-CTR
 *              expansions.
 *   compute    slowest site + server. Sites run in parallel, each its own machine: the figures
 *              here are one site's work.
 *   round      compute + the round's round trips × --latency ms (plaintext 2, secure 5).
 * Plaintext and secure runs alternate within each repetition; figures are medians over repetitions
 * (5 and 20 sites: 5 at 10 k, 3 at 1 M; 100 sites: 3 at 10 k, 1 at 1 M). In the first repetition
 * at d ≤ 100 000 every site masks its full input and the unmasked sum is checked against the sum of
 * the ring inputs; otherwise only site 0 masks at d (its work is what is timed), the others mask a one-value input
 * (their keys and shares are what the unmasking needs) and the server takes site 0's masked words
 * under each one's index: its work does not depend on the values, the sum is then not checked.
 *
 * The ring is the server's automatic choice (32 bits while sites × weight cap × max(clip, 1) ≤ 2^15,
 * which leaves 16 fraction bits; 64 bits beyond), or the 32- or 64-bit ring that `--fraction-bits`
 * (the study's secureAggregation.fractionBits) needs. `--cells` replaces the default cells
 * (`+graph`: over SecAgg+'s graph, below).
 *
 * SecAgg+ (Bell et al. 2020): two more cells, 100 sites at 10 k and 1 M over the round's sparse
 * graph with the automatic k (shared/fl/secagg/graph.ts: 40 at 100 sites), drawn as the server draws
 * it (roundGraph, a fresh seed each round); its `graph` goes in every site's opening, and into the
 * server's setup through secAggParams as a site takes it (server/secagg/secureRounds.ts does the
 * same). Another graph or setting is one more entry in CELLS with its `extra` opening fields.
 * Repetitions there: 2 at 10 k, 1 at 1 M.
 *
 * `--quick`: 5 and 20 sites at 10 k only (complete graph), 2 repetitions.
 *
 * The last line:
 *   bench:secagg: bytes_ratio_max=R (S sites, P params) extra_round_trips=N target_bytes=2
 *     target_round_trips=4 round_time_ratio_max=T (S sites, P params) compute_ratio_max=C (S sites,
 *     P params) verified=yes|partial|no|FAILED
 * bytes_ratio_max: the largest secure/plaintext bytes ratio (both directions) over the cells;
 * extra_round_trips: secure's round trips less plaintext's; round_time_ratio_max and
 * compute_ratio_max: the largest secure/plaintext ratio of the round (with latency) and of its compute
 * alone, secure with one site dropped (the dearer case); verified: whether every unmasked sum checked
 * matched (partial: the cells above 100 000 parameters are not checked).
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { FixedPointSum } from '../shared/fl/fixedPoint';
import { scaleBitsFor } from '../shared/fl/bounds';
import { SecureParty, type MaskedReady } from '../shared/fl/secagg/party';
import { automaticNeighbours, effectiveNeighbours, roundGraph } from '../shared/fl/secagg/graph';
import { minimumThreshold, secAggParams } from '../shared/fl/secagg/protocol';
import { chooseRing, decodeFixed, lanes, ringAdd, type RingBits } from '../shared/fl/secagg/ring';
import { decodeMasked, encodeMasked } from '../shared/fl/secagg/wire';
import type { AdvertisedKeys, RevealRequest, SecureRound as SecureRoundOpen, SharesForYou, UnmaskRequest } from '../shared/protocol/secagg';
import type { UpdateMeta } from '../shared/protocol/schemas';
import { DEFAULT_WEIGHT_CAP_FACTOR } from '../shared/protocol/studyConfig';
import { denseBenchTemplate, weightShapes, type TaskTemplate } from '../shared/tasks';
import { decodeWeights, encodeWeights } from '../shared/weights/codec';
import { SecureRound } from '../server/secagg/secureRound';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    records: { type: 'string', default: '500' },
    clip: { type: 'string', default: '1' },
    latency: { type: 'string', default: '50' },
    'fraction-bits': { type: 'string' },
    cells: { type: 'string' },
    clock: { type: 'string', default: 'cpu' },
  },
  strict: true,
});
const records = Number(args.records);
const clipNorm = Number(args.clip);
const latencyMs = Number(args.latency);
if (!Number.isInteger(records) || records < 1) throw new Error('--records must be a whole number ≥ 1');
if (!(clipNorm > 0)) throw new Error('--clip must be positive');
if (!(latencyMs >= 0)) throw new Error('--latency must be ≥ 0');
if (args.clock !== 'cpu' && args.clock !== 'wall') throw new Error('--clock is cpu or wall');
/** The study's secureAggregation.fractionBits: null (the default) lets the server choose the ring. */
const fractionBits = args['fraction-bits'] === undefined ? null : Number(args['fraction-bits']);
if (fractionBits !== null && !(Number.isInteger(fractionBits) && fractionBits >= 8 && fractionBits <= 40)) throw new Error('--fraction-bits must be a whole number from 8 to 40');
/** The default study's cap: weightCapFactor × the median count, every site holding `records`. */
const weightCap = Math.max(1, Math.floor(DEFAULT_WEIGHT_CAP_FACTOR * records));

interface Cell {
  sites: number;
  params: number;
  /**
   * Extra fields of every site's opening (RoundOpen.secureAggregation) for n sites, e.g. a SecAgg+
   * graph; the server's setup takes them through secAggParams as the sites do.
   */
  extra?: (sites: number) => Record<string, unknown>;
  label?: string;
}
/** A cell over SecAgg+'s sparse graph with the automatic k, drawn as the server draws it. */
const sparse = (sites: number, params: number): Cell => ({
  sites,
  params,
  extra: (n) => ({ graph: roundGraph(n, null) }),
  label: (() => {
    const k = automaticNeighbours(sites);
    return k >= sites - 1 ? 'SecAgg+ rule: complete graph' : `SecAgg+ k=${effectiveNeighbours(sites, k)}`;
  })(),
});
const parseCells = (spec: string): Cell[] =>
  spec.split(',').map((c): Cell => {
    const [size, graph] = c.trim().split('+');
    const [sites, params] = size.split('x').map(Number);
    if (!Number.isInteger(sites) || sites < 3 || !Number.isInteger(params) || params < 100 || (graph !== undefined && graph !== 'graph'))
      throw new Error(`--cells: SITESxPARAMS[+graph], comma-separated (got '${c}')`);
    return graph ? sparse(sites, params) : { sites, params };
  });
const CELLS: Cell[] = args.cells
  ? parseCells(args.cells)
  : args.quick
  ? [
      { sites: 5, params: 10_000 },
      { sites: 20, params: 10_000 },
    ]
  : [
      { sites: 5, params: 10_000 },
      { sites: 20, params: 10_000 },
      { sites: 100, params: 10_000 },
      { sites: 5, params: 1_000_000 },
      { sites: 20, params: 1_000_000 },
      { sites: 100, params: 1_000_000 },
      // SecAgg+: the round's sparse graph with the automatic k (shared/fl/secagg/graph.ts), as the server draws it.
      sparse(100, 10_000),
      sparse(100, 1_000_000),
    ];
const repsFor = (c: Cell) => (args.quick ? 2 : c.sites >= 100 ? (c.params >= 1_000_000 ? 1 : c.extra ? 2 : 3) : c.params >= 1_000_000 ? 3 : 5);
/** Every site masks its real input and the sum is checked up to this many parameters. */
const VERIFY_UP_TO = 100_000;

const log = pino({ level: 'silent' });
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
/**
 * The clock of every timed step: the process's CPU time (user + system, every thread: WebCrypto runs on
 * libuv's pool) by default, so that a loaded machine's waits for a core are not counted; `--clock wall`
 * for elapsed time. Nothing else of this process runs during a timed step.
 */
const cpuClock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const now = args.clock === 'wall' ? () => performance.now() : cpuClock;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const ratio = (x: number) => `${x.toFixed(x >= 10 ? 1 : 2)}×`;
const paramsLabel = (p: number) => (p >= 1e6 ? `${p / 1e6} M` : `${p / 1e3} k`);
const uptime = () => {
  try {
    return execSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
};

// ---------------------------------------------------------------- the wire

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
/** A WebSocket frame's bytes around a payload: 2, 4 or 10 bytes of header, 4 of mask from the client. */
const wsFrame = (payload: number, fromClient: boolean) => payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10) + (fromClient ? 4 : 0);
/** A Socket.IO event as engine.io sends it: `42[<ack id>][event,payload]`. */
const eventBytes = (event: string, payload: unknown, fromClient: boolean, ackId?: number) =>
  wsFrame(utf8(`42${ackId ?? ''}${JSON.stringify([event, payload])}`), fromClient);
/** The server's ack of a site's emit (server/realtime/socket.ts answers `{ ok: true, data: null }`). */
const ackBytes = (ackId: number) => wsFrame(utf8(`43${ackId}${JSON.stringify([{ ok: true, data: null }])}`), false);

type Direction = 'up' | 'down';
interface WireItem {
  what: string;
  direction: Direction;
  bytes: number;
  /** A site request the site waits on (HTTP, or an emit with an ack); its answer is in the same item list. */
  request?: boolean;
}
const total = (items: readonly WireItem[], dir?: Direction) => items.filter((i) => !dir || i.direction === dir).reduce((s, i) => s + i.bytes, 0);
const roundTrips = (items: readonly WireItem[]) => items.filter((i) => i.request).length;

// ---------------------------------------------------------------- a cell's model and data

interface Model {
  template: TaskTemplate;
  lengths: number[];
  d: number;
  /** The model version a site downloads, as the server encodes it. */
  download: number;
}

function modelOf(params: number): Model {
  const template = denseBenchTemplate(params);
  const shapes = weightShapes(template.model);
  const lengths = shapes.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const weights = lengths.map((n) => new Float32Array(n));
  // server/studies/service.ts encodeModel: the same container, meta and tensors.
  const body = encodeWeights({
    kind: 'model',
    meta: { studyId: 'bench-secagg', version: 7, templateId: template.id },
    tensors: weights.map((data, i) => ({ shape: shapes[i].shape, data })),
  });
  return { template, lengths, d: lengths.reduce((a, b) => a + b, 0), download: body.length };
}

/** A site's delta: small values, about 1e-3 each (a norm near the clip at 1 M, under it at 10 k). */
function deltaOf(lengths: readonly number[], seed: number): Float32Array[] {
  let s = seed >>> 0 || 1;
  return lengths.map((n) => {
    const t = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      t[i] = ((s >>> 0) / 4294967296 - 0.5) * 2e-3;
    }
    return t;
  });
}
const copyDelta = (d: readonly Float32Array[]) => d.map((t) => t.slice());

// ---------------------------------------------------------------- plaintext FedAvg

/** web/training/transfer.ts encodeUpdate: the update container of every study (shared/weights/codec.ts). */
function encodeUpdate(meta: UpdateMeta, model: Model, delta: Float32Array[]): Uint8Array {
  const shapes = weightShapes(model.template.model);
  return encodeWeights({ kind: 'update', meta, tensors: delta.map((data, i) => ({ shape: shapes[i].shape, data })) });
}

interface PlainRun {
  siteMs: number;
  serverMs: number;
  wire: WireItem[];
}

function plaintextRound(cell: Cell, model: Model, delta: Float32Array[]): PlainRun {
  const meta: UpdateMeta = { studyId: 'bench-secagg', round: 1, baseVersion: 7, numSamples: records, backend: 'cpu', trainLoss: 0.5 };
  gc();
  let t = now();
  const body = encodeUpdate(meta, model, delta);
  const siteMs = now() - t;
  // The server's fold (server/rounds/ledger.ts: FixedPointSum at the round's scale), every update decoded from its body.
  const scaleBits = scaleBitsFor(weightCap, clipNorm);
  gc();
  t = now();
  const sum = new FixedPointSum(model.lengths, scaleBits);
  let weight = 0;
  for (let k = 0; k < cell.sites; k++) {
    const payload = decodeWeights(body);
    const w = Math.min(records, weightCap);
    sum.add(w, payload.tensors.map((x) => x.data));
    weight += w;
  }
  const mean = sum.mean(weight);
  const serverMs = now() - t;
  if (mean.length !== model.lengths.length) throw new Error('no mean');
  return {
    siteMs,
    serverMs,
    wire: [
      { what: 'model download (GET)', direction: 'down', bytes: model.download, request: true },
      { what: 'update upload (POST body)', direction: 'up', bytes: body.length, request: true },
    ],
  };
}

// ---------------------------------------------------------------- a secure round

interface SecureRun {
  bits: RingBits;
  fractionBits: number;
  threshold: number;
  site: { keys: number; share: number; mask: number; reveal: number; total: number };
  server: { relay: number; intake: number; unmask: number; mean: number; total: number };
  wire: WireItem[];
  /** null: not checked (only site 0 masked at d). */
  verified: boolean | null;
}

type Pushed = { event: string; payload: unknown };

async function secureRound(cell: Cell, model: Model, delta: Float32Array[], rep: number, dropLast: boolean): Promise<SecureRun> {
  const n = cell.sites;
  // The first repetition checks the sum; the others time the same work without the others' full masking.
  const verify = model.d <= VERIFY_UP_TO && rep === 0;
  const studyId = 'bench-secagg';
  const ids = Array.from({ length: n }, (_, k) => `site-${String(k).padStart(3, '0')}`);
  const ring = chooseRing(n, weightCap, clipNorm, fractionBits);
  const threshold = Math.min(n, minimumThreshold(n));
  const context = `${studyId}/round-1/${rep}${dropLast ? '-drop' : ''}`;
  const words = (model.d + 1) * lanes(ring.bits);
  const pushed: Pushed[][] = ids.map(() => []);
  const byId = new Map(ids.map((id, k) => [id, k]));
  let finished: (v: { sum: Uint32Array; survivors: number[]; at: number }) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const done = new Promise<{ sum: Uint32Array; survivors: number[]; at: number }>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const extra = cell.extra?.(n) ?? {};
  const openFor = (k: number): SecureRoundOpen =>
    ({ index: k, sampled: n, threshold, bits: ring.bits, fractionBits: ring.fractionBits, clipNorm, weightCap, context, ...extra }) as SecureRoundOpen;
  const server = new SecureRound(
    { studyId, round: 1, sampled: ids, words, stepMs: 3_600_000, maskDeadline: Date.now() + 3_600_000, ...secAggParams(openFor(0)) },
    {
      events: { toParticipant: (participantId: string, event: string, payload: unknown) => pushed[byId.get(participantId)!].push({ event, payload }) },
      log,
      now: () => Date.now(),
      finish: async (sum, survivors) => finished({ sum, survivors, at: now() }),
      fail: async (reason) => failed(new Error(reason)),
    },
  );
  const take = <T>(k: number, event: string): T => {
    const m = pushed[k].find((p) => p.event === event);
    if (!m) throw new Error(`site ${k} got no ${event}`);
    return m.payload as T;
  };
  let relay = 0;
  const srv = <T>(fn: () => T): T => {
    const t = now();
    const r = fn();
    relay += now() - t;
    return r;
  };
  const wire: WireItem[] = [
    { what: 'model download (GET)', direction: 'down', bytes: model.download, request: true },
    { what: "round:open's secureAggregation field", direction: 'down', bytes: utf8(`,"secureAggregation":${JSON.stringify(openFor(0))}`) },
  ];
  const parties = ids.map(() => new SecureParty(studyId));
  const site = { keys: 0, share: 0, mask: 0, reveal: 0, total: 0 };
  const others = Array.from({ length: n - 1 }, (_, i) => i + 1);
  const survivors = dropLast ? ids.map((_, k) => k).filter((k) => k !== n - 1) : ids.map((_, k) => k);
  server.start();
  try {
    // Step 1: advertise.
    gc();
    let t = now();
    const adv0 = await parties[0].open(1, openFor(0));
    site.keys = now() - t;
    const advs = [adv0, ...(await Promise.all(others.map((k) => parties[k].open(1, openFor(k)))))];
    wire.push({ what: 'secagg:advertise', direction: 'up', bytes: eventBytes('secagg:advertise', adv0, true, 1), request: true });
    wire.push({ what: 'its ack', direction: 'down', bytes: ackBytes(1) });
    advs.forEach((a, k) => srv(() => server.advertise(ids[k], a)));

    // Step 2: share keys.
    const keys0 = take<AdvertisedKeys>(0, 'secagg:keys');
    wire.push({ what: 'secagg:keys (U1, relayed)', direction: 'down', bytes: eventBytes('secagg:keys', keys0, false) });
    gc();
    t = now();
    const share0 = await parties[0].shareKeys(keys0);
    site.share = now() - t;
    if (!share0) throw new Error('site 0 shared nothing');
    const shares = [share0, ...(await Promise.all(others.map((k) => parties[k].shareKeys(take<AdvertisedKeys>(k, 'secagg:keys')))))];
    wire.push({ what: 'secagg:shares (sealed, sent)', direction: 'up', bytes: eventBytes('secagg:shares', share0, true, 2), request: true });
    wire.push({ what: 'its ack', direction: 'down', bytes: ackBytes(2) });
    shares.forEach((s, k) => srv(() => server.shares(ids[k], s!)));

    // Step 3: masked inputs (the last site gone before it, when asked).
    const forYou0 = take<SharesForYou>(0, 'secagg:shares');
    wire.push({ what: 'secagg:shares (sealed for it, relayed)', direction: 'down', bytes: eventBytes('secagg:shares', forYou0, false) });
    gc();
    t = now();
    await parties[0].input(1, copyDelta(delta), records);
    const ready0 = await parties[0].received(forYou0);
    site.mask = now() - t;
    if (!ready0) throw new Error('site 0 masked nothing');
    wire.push({ what: 'masked input (POST body)', direction: 'up', bytes: ready0.body.length, request: true });
    const small = [new Float32Array(1)];
    const ready: (MaskedReady | null)[] = [ready0];
    for (const k of others) {
      if (!survivors.includes(k)) {
        ready.push(null);
        continue;
      }
      // Without the check, the others mask a one-value input: their keys and shares are what the unmasking needs.
      await parties[k].input(1, verify ? deltaOf(model.lengths, 1000 * rep + k + 1) : small, records);
      ready.push(await parties[k].received(take<SharesForYou>(k, 'secagg:shares')));
    }
    const words0 = verify ? null : decodeMasked(ready0.body).words;
    let intake = 0;
    for (const k of survivors) {
      const body = verify || k === 0 ? ready[k]!.body : encodeMasked(k, ring.bits, words0!);
      t = now();
      // server/secagg/secureRounds.ts `masked`: decode the body, then the round's ring sum.
      const decoded = decodeMasked(body);
      server.maskedInput(ids[k], decoded.index, decoded.words, decoded.bits);
      intake += now() - t;
    }
    if (dropLast) srv(() => server.departed(ids[n - 1]));

    // Step 4: unmasking.
    const unmask0 = take<UnmaskRequest>(0, 'secagg:unmask');
    wire.push({ what: 'secagg:unmask (U3)', direction: 'down', bytes: eventBytes('secagg:unmask', unmask0, false) });
    gc();
    t = now();
    const reveal0 = await parties[0].reveal(unmask0);
    site.reveal = now() - t;
    if (!reveal0) throw new Error('site 0 revealed nothing');
    wire.push({ what: 'secagg:reveal', direction: 'up', bytes: eventBytes('secagg:reveal', reveal0, true, 3), request: true });
    wire.push({ what: 'its ack', direction: 'down', bytes: ackBytes(3) });
    const reveals: RevealRequest[] = [reveal0];
    for (const k of survivors.slice(1)) reveals.push((await parties[k].reveal(take<UnmaskRequest>(k, 'secagg:unmask')))!);
    gc();
    let unmaskStart = 0;
    for (const [i, r] of reveals.entries()) {
      if (server.phase !== 'unmask') break;
      const t0 = now();
      server.reveal(ids[survivors[i]], r);
      if (server.phase === 'unmask') relay += now() - t0;
      else unmaskStart = t0;
    }
    const result = await done;
    const unmask = result.at - unmaskStart;
    // server/secagg/secureRounds.ts commit: the sum read as fixed point, divided by the weight it carries.
    t = now();
    const decoded = decodeFixed(result.sum, ring.fractionBits, ring.bits);
    const weight = decoded[decoded.length - 1];
    const meanOut = new Float64Array(decoded.length - 1);
    for (let i = 0; i < meanOut.length; i++) meanOut[i] = decoded[i] / weight;
    const mean = now() - t;
    let verified: boolean | null = null;
    if (verify) {
      const expected = new Uint32Array(words);
      for (const k of survivors) ringAdd(expected, ready[k]!.input.words, ring.bits);
      verified = expected.length === result.sum.length && expected.every((w, i) => w === result.sum[i]);
      if (result.survivors.length !== survivors.length) verified = false;
    }
    site.total = site.keys + site.share + site.mask + site.reveal;
    return {
      bits: ring.bits,
      fractionBits: ring.fractionBits,
      threshold,
      site,
      server: { relay, intake, unmask, mean, total: relay + intake + unmask + mean },
      wire,
      verified,
    };
  } finally {
    server.stop();
  }
}

// ---------------------------------------------------------------- the run

interface CellResult {
  cell: Cell;
  model: Model;
  reps: number;
  plain: { site: number; server: number; wire: WireItem[] };
  secure: SecureRun & { siteMed: SecureRun['site']; serverMed: SecureRun['server']; serverDropMed: SecureRun['server'] };
  verified: boolean | null;
}

const load0 = loadavg();
const started = performance.now();
console.log(
  `bench-secagg: ${CELLS.map((c) => `${c.sites}×${paramsLabel(c.params)}${c.label ? ` ${c.label}` : ''}`).join(', ')}; ${records} records a site (weight cap ${weightCap}), clip ${clipNorm}, ` +
    `fraction bits ${fractionBits ?? 'automatic'}, latency ${latencyMs} ms a round trip, ${args.clock === 'wall' ? 'elapsed (wall) time' : 'CPU time'}; ` +
    `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`,
);
console.log(`start: ${uptime()}`);

// Warm-up, untimed: the JIT, WebCrypto, the fold's WebAssembly.
{
  const warm: Cell = { sites: 6, params: 2_000 };
  const model = modelOf(warm.params);
  const delta = deltaOf(model.lengths, 3);
  for (let rep = 0; rep < 2; rep++) {
    plaintextRound(warm, model, copyDelta(delta));
    await secureRound(warm, model, delta, 100 + rep, rep === 1);
  }
}

const results: CellResult[] = [];
for (const cell of CELLS) {
  const model = modelOf(cell.params);
  const delta = deltaOf(model.lengths, 7);
  const reps = repsFor(cell);
  const plains: PlainRun[] = [];
  const secures: SecureRun[] = [];
  const drops: SecureRun[] = [];
  const cellStart = performance.now();
  for (let rep = 0; rep < reps; rep++) {
    // Alternating: plaintext, secure, secure with a dropout, each repetition.
    plains.push(plaintextRound(cell, model, copyDelta(delta)));
    secures.push(await secureRound(cell, model, delta, rep, false));
    drops.push(await secureRound(cell, model, delta, rep, true));
  }
  const med = <T extends Record<string, number>>(list: T[]): T =>
    Object.fromEntries(Object.keys(list[0]).map((key) => [key, median(list.map((x) => x[key]))])) as T;
  const checks = [...secures, ...drops].map((s) => s.verified);
  const verified = checks.every((v) => v === null) ? null : checks.every((v) => v !== false);
  const r: CellResult = {
    cell,
    model,
    reps,
    plain: { site: median(plains.map((p) => p.siteMs)), server: median(plains.map((p) => p.serverMs)), wire: plains[0].wire },
    secure: {
      ...secures[0],
      siteMed: med(secures.map((s) => s.site)),
      serverMed: med(secures.map((s) => s.server)),
      serverDropMed: med(drops.map((s) => s.server)),
    },
    verified,
  };
  results.push(r);
  const s = r.secure;
  console.log(
    `\n${cell.sites} sites × ${model.d} parameters${cell.label ? ` (${cell.label})` : ''}: ${s.bits}-bit ring, ${s.fractionBits} fraction bits, threshold ${s.threshold}; ${reps} repetition(s), ${((performance.now() - cellStart) / 1000).toFixed(1)} s; ` +
      `sum ${verified === null ? 'not checked' : verified ? 'checked: unmasked = Σ ring inputs' : 'WRONG'}`,
  );
  for (const [name, items] of [
    ['plaintext', r.plain.wire],
    ['secure', s.wire],
  ] as const)
    console.log(`  ${name.padEnd(9)} ${items.map((i) => `${i.direction === 'up' ? '↑' : '↓'} ${i.what} ${i.bytes} B`).join('; ')}`);
  console.log(
    `  site ms     plaintext encode ${ms(r.plain.site)}; secure keys ${ms(s.siteMed.keys)} + share ${ms(s.siteMed.share)} + mask ${ms(s.siteMed.mask)} + reveal ${ms(s.siteMed.reveal)} = ${ms(s.siteMed.total)}`,
  );
  console.log(
    `  server ms   plaintext decode+fold+mean ${ms(r.plain.server)}; secure relay ${ms(s.serverMed.relay)} + intake ${ms(s.serverMed.intake)} + unmask ${ms(s.serverMed.unmask)} + mean ${ms(s.serverMed.mean)} = ${ms(s.serverMed.total)}; ` +
      `one dropped: relay ${ms(s.serverDropMed.relay)} + intake ${ms(s.serverDropMed.intake)} + unmask ${ms(s.serverDropMed.unmask)} + mean ${ms(s.serverDropMed.mean)} = ${ms(s.serverDropMed.total)}`,
  );
}
const seconds = (performance.now() - started) / 1000;

const plainTrips = roundTrips(results[0].plain.wire);
const secureTrips = roundTrips(results[0].secure.wire);
const extraTrips = Math.max(...results.map((r) => roundTrips(r.secure.wire) - roundTrips(r.plain.wire)));

console.log('');
console.log(
  `round trips a round (a site request it waits on): plaintext ${plainTrips} (GET model, POST update); secure ${secureTrips} (GET model, secagg:advertise, secagg:shares, POST masked input, secagg:reveal): ${extraTrips} extra (target ≤ 4). ` +
    `Server pushes, not counted: round:open, round:closed; secure adds secagg:keys, secagg:shares, secagg:unmask. ` +
    `The advertise and share steps run beside training: with training longer than 2 round trips only unmask→reveal lengthens the round.`,
);
console.log('');
console.log('Bytes per site per round (both directions; ↑ site to server):');
console.log('| sites | parameters | ring | plaintext | secure | ratio | ↑ plaintext | ↑ secure | ↑ ratio | secure − plaintext |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  const p = total(r.plain.wire);
  const s = total(r.secure.wire);
  const pu = total(r.plain.wire, 'up');
  const su = total(r.secure.wire, 'up');
  console.log(
    `| ${r.cell.sites}${r.cell.label ? ` (${r.cell.label})` : ''} | ${r.model.d} | ${r.secure.bits}-bit | ${kb(p)} | ${kb(s)} | ${ratio(s / p)} | ${kb(pu)} | ${kb(su)} | ${ratio(su / pu)} | ${kb(s - p)} |`,
  );
}
console.log('');
console.log(
  `Round time in ms of ${args.clock === 'wall' ? 'elapsed time' : 'CPU time'} (medians): compute = slowest site + server; round = compute + its round trips × ${latencyMs} ms (plaintext ${plainTrips}, secure ${secureTrips}); training and the download's transfer, alike on both sides, left out:`,
);
console.log('| sites | parameters | reps | site plain | site secure | server plain | server secure | server secure, 1 dropped | compute plain | compute secure | ratio | round plain | round secure | ratio | round secure, 1 dropped | ratio |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const timeRatios: { r: CellResult; compute: number; drop: number }[] = [];
for (const r of results) {
  const s = r.secure;
  const computePlain = r.plain.site + r.plain.server;
  const computeSecure = s.siteMed.total + s.serverMed.total;
  const computeDrop = s.siteMed.total + s.serverDropMed.total;
  const roundPlain = computePlain + roundTrips(r.plain.wire) * latencyMs;
  const roundSecure = computeSecure + roundTrips(s.wire) * latencyMs;
  const roundDrop = computeDrop + roundTrips(s.wire) * latencyMs;
  timeRatios.push({ r, compute: computeDrop / computePlain, drop: roundDrop / roundPlain });
  console.log(
    `| ${r.cell.sites}${r.cell.label ? ` (${r.cell.label})` : ''} | ${r.model.d} | ${r.reps} | ${ms(r.plain.site)} | ${ms(s.siteMed.total)} | ${ms(r.plain.server)} | ${ms(s.serverMed.total)} | ${ms(s.serverDropMed.total)} | ` +
      `${ms(computePlain)} | ${ms(computeSecure)} | ${ratio(computeSecure / computePlain)} | ${ms(roundPlain)} | ${ms(roundSecure)} | ${ratio(roundSecure / roundPlain)} | ${ms(roundDrop)} | ${ratio(roundDrop / roundPlain)} |`,
  );
}
const load1 = loadavg();
console.log('');
console.log(`${results.length} cells: ${seconds.toFixed(0)} s; load ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after`);
console.log(`end: ${uptime()}`);
const byBytes = results.map((r) => ({ r, x: total(r.secure.wire) / total(r.plain.wire) })).sort((a, b) => b.x - a.x)[0];
const byTime = [...timeRatios].sort((a, b) => b.drop - a.drop)[0];
const byCompute = [...timeRatios].sort((a, b) => b.compute - a.compute)[0];
const checks = results.map((r) => r.verified).filter((v) => v !== null);
const verifiedAll = checks.length === 0 ? 'no' : checks.every(Boolean) ? (checks.length === results.length ? 'yes' : 'partial') : 'FAILED';
console.log(
  `bench:secagg: bytes_ratio_max=${byBytes.x.toFixed(3)} (${byBytes.r.cell.sites} sites, ${byBytes.r.model.d} params) extra_round_trips=${extraTrips} target_bytes=2 target_round_trips=4 ` +
    `round_time_ratio_max=${byTime.drop.toFixed(2)} (${byTime.r.cell.sites} sites, ${byTime.r.model.d} params) ` +
    `compute_ratio_max=${byCompute.compute.toFixed(1)} (${byCompute.r.cell.sites} sites, ${byCompute.r.model.d} params) verified=${verifiedAll}`,
);
if (checks.some((v) => !v)) process.exitCode = 1;
