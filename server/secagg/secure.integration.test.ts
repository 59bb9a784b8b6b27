import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationReport } from '../../shared/fl/report';
import { distributedPlan } from '../../shared/fl/secagg/distributedNoise';
import { CommunicationGraph } from '../../shared/fl/secagg/graph';
import { decodeFixed, ringAdd } from '../../shared/fl/secagg/ring';
import type { RoundClosed, RoundOpen, SecureRound } from '../../shared/protocol/schemas';
import { allHeartDemoHospitals } from '../../shared/synthetic';
import { encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { rounds, updates } from '../db/schema';
import { createStudy } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { nextEvent } from '../testing/harness';
import { heartShapes as shapes, modelWeights, startHeartStudy, type HeartStudy } from '../testing/heartStudy';
import { SecureClient, type Dropout } from '../testing/secureClient';

/**
 * Secure aggregation through the real server, 5 sites (7 over a sparse graph): the server's unmasked
 * sum is exactly the plaintext fixed-point sum of the sites in it, whichever sites drop out and when;
 * it never holds an update, and a round that loses too many sites ends with nothing revealed.
 */
const STUDY = 'secagg-test';
// The demo's five, and two more like the first two (their own ids and seeds) for the sparse graph's round.
const ALL_HOSPITALS = [
  ...allHeartDemoHospitals.slice(0, 5),
  ...allHeartDemoHospitals.slice(0, 2).map((h, k) => ({ ...h, id: `${h.id}-sparse-${k}`, name: `${h.name} (second site)`, seed: h.seed + 101 + k })),
];
const ALL_RECORDS = [120, 200, 300, 400, 500, 250, 350];
let HOSPITALS = ALL_HOSPITALS.slice(0, 5);
let RECORDS = ALL_RECORDS.slice(0, 5);
const delta = (k: number) => shapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.05));

type SecureOpen = RoundOpen & { secureAggregation: SecureRound };

describe.each(testDatabaseTargets())('a study under secure aggregation ($name)', (target) => {
  let database: Database;
  let study: HeartStudy | null = null;
  let clients: SecureClient[] = [];
  let errors: unknown[] = [];

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  afterEach(async () => {
    // What the sites ran into during the test (an ack still in flight when its socket closes below is teardown, not the test's).
    const seen = errors.map((e) => String(e));
    errors = [];
    await study?.stop();
    study = null;
    clients = [];
    expect(seen).toEqual([]);
  });

  /** The study, its 5 (or `sites`) hospitals joined (each with a secure-round client), and round 1 open: each site's own opening. */
  async function start(config: object = {}, sites = 5): Promise<SecureOpen[]> {
    HOSPITALS = ALL_HOSPITALS.slice(0, sites);
    RECORDS = ALL_RECORDS.slice(0, sites);
    const sink = errors;
    study = await startHeartStudy(target, database, {
      studyId: STUDY,
      hospitals: HOSPITALS,
      records: RECORDS,
      config: { rounds: 2, roundDeadlineMs: 20_000, secureAggregation: { fractionBits: null }, clipping: { mode: 'fixed', norm: 1 }, ...config },
      onSocket: (socket, k, token, url) => clients.push(new SecureClient({ url, studyId: STUDY, token, id: HOSPITALS[k].id, onError: (err) => sink.push(err) }, socket)),
    });
    return study.opened as SecureOpen[];
  }

  /** Round 1 with the given dropouts; resolves with its close and its report. */
  async function playRound(opens: SecureOpen[], dropouts: Partial<Record<number, Dropout>>) {
    const sockets = study!.sockets;
    const closed = nextEvent(sockets[1], 'round:closed');
    for (const [k, open] of opens.entries()) clients[k].open(open, dropouts[k] ?? null);
    // A site that drops before its masked input closes its tab once it has shared its keys.
    for (const [k, d] of Object.entries(dropouts)) if (d === 'before-masking') sockets[Number(k)].once('secagg:shares', () => setTimeout(() => sockets[Number(k)].disconnect(), 10));
    for (const [k] of opens.entries()) await clients[k].submit(1, delta(k), RECORDS[k]);
    const result: RoundClosed = await closed;
    const [row] = await database.db.select({ report: rounds.aggregationReport }).from(rounds).orderBy(rounds.number).limit(1);
    return { closed: result, report: row.report as AggregationReport };
  }

  /** The plaintext ring sum of what these sites fed the round: what the unmasking must give, bit for bit. */
  function plaintextSum(sitesInSum: number[]): Uint32Array {
    const inputs = sitesInSum.map((k) => clients[k].ringInputs.get(1)!);
    const sum = new Uint32Array(inputs[0].words.length);
    for (const x of inputs) ringAdd(sum, x.words, opensBits);
    return sum;
  }
  let opensBits: 32 | 64 = 32;

  for (const [name, dropouts, inSum] of [
    ['no site drops out', {}, [0, 1, 2, 3, 4]],
    ['a site drops out before its masked input (its tab closes): not in the sum', { 2: 'before-masking' }, [0, 1, 3, 4]],
    ['a site drops out after its masked input (never answers the unmasking): in the sum', { 4: 'after-masking' }, [0, 1, 2, 3, 4]],
  ] as [string, Partial<Record<number, Dropout>>, number[]][])
    it(`unmasks exactly the plaintext fixed-point sum when ${name}`, async () => {
      const opens = await start();
      opensBits = opens[0].secureAggregation.bits;
      expect(opens.map((o) => o.secureAggregation.index)).toEqual(expect.arrayContaining([0, 1, 2, 3, 4]));
      expect(opens[0].secureAggregation).toMatchObject({ sampled: 5, threshold: 3, clipNorm: 1 });
      const { closed, report } = await playRound(opens, dropouts);
      expect(closed).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: inSum.length });
      const byIndex = (k: number) => opens[k].secureAggregation.index;
      expect(report.secureAggregation!.survivors).toEqual(inSum.map(byIndex).sort((a, b) => a - b));
      const plain = plaintextSum(inSum);
      expect(report.secureAggregation!.sumSha256).toBe(createHash('sha256').update(new Uint8Array(plain.buffer)).digest('hex'));
      // The model moved by the weighted mean of the clipped deltas, to the ring's precision.
      const f = opens[0].secureAggregation.fractionBits;
      const decoded = decodeFixed(plain, f, opensBits);
      const weight = decoded[decoded.length - 1];
      expect(weight).toBe(inSum.reduce((s, k) => s + Math.min(RECORDS[k], opens[0].secureAggregation.weightCap ?? Infinity), 0));
      const [v0, v1] = [await modelWeights(study!, STUDY, 0), await modelWeights(study!, STUDY, 1)];
      for (let i = 0; i < v0.length; i += 37) expect(v1[i] - v0[i]).toBeCloseTo(decoded[i] / weight, 5);
      // The server kept no update, masked or not: nothing in storage names one site's contribution.
      expect(await database.db.select().from(updates)).toEqual([]);
      expect(report.updates).toEqual([]);
    });

  it('under differential privacy, tells each site its share of the distributed noise and sizes the ring for the noisy sum', async () => {
    const privacy = { clipNorm: 1, noiseMultiplier: 2, sampleRate: 1, epsilonBudget: 100 };
    const opens = await start({ privacy });
    const sa = opens[0].secureAggregation;
    const d = shapes.reduce((n, { shape }) => n + shape.reduce((a, b) => a * b, 1), 0);
    const plan = distributedPlan({ ...privacy, delta: 1e-5 }, { rounds: 1, threshold: 3, sampled: 5, parameters: d, fractionBits: null });
    expect(sa).toMatchObject({ sampled: 5, threshold: 3, clipNorm: 1, bits: plan.bits, fractionBits: plan.fractionBits });
    expect(opens.map((o) => o.secureAggregation.noise)).toEqual(opens.map(() => ({ muShare: plan.muShare, recordCap: 100 })));
    // Any 3 survivors' shares make the study's noise: 2μ = (z·Δ2)², Δ2 = C·2^f + √d/2.
    expect(Math.sqrt(2 * 3 * sa.noise!.muShare)).toBeCloseTo(2 * (2 ** sa.fractionBits + Math.sqrt(d) / 2), 3);
  });

  it('over a sparse graph (7 sites, 4 neighbours each), unmasks exactly the plaintext sum with a dropout of each kind', async () => {
    const opens = await start({ secureAggregation: { fractionBits: null, neighbours: 4 } }, 7);
    opensBits = opens[0].secureAggregation.bits;
    const graph = opens[0].secureAggregation.graph!;
    expect(graph).toMatchObject({ neighbours: 4, threshold: 3 });
    expect(graph.seed).toMatch(/^[0-9a-f]{32}$/);
    // Every site builds the same graph: one seed in every opening; the round's own threshold is unchanged.
    expect(new Set(opens.map((o) => o.secureAggregation.graph?.seed)).size).toBe(1);
    expect(opens[0].secureAggregation).toMatchObject({ sampled: 7, threshold: 4 });
    // Each site is told its neighbours' keys only: 4 and its own.
    const keys = Promise.all(study!.sockets.map((s) => new Promise<{ keys: unknown[] }>((resolve) => s.once('secagg:keys', resolve))));
    const inSum = [0, 1, 3, 4, 5, 6];
    const { closed, report } = await playRound(opens, { 2: 'before-masking', 4: 'after-masking' });
    for (const msg of await keys) expect(msg.keys).toHaveLength(5);
    expect(closed).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: 6 });
    expect(report.secureAggregation!.survivors).toEqual(inSum.map((k) => opens[k].secureAggregation.index).sort((a, b) => a - b));
    const plain = plaintextSum(inSum);
    expect(report.secureAggregation!.sumSha256).toBe(createHash('sha256').update(new Uint8Array(plain.buffer)).digest('hex'));
    const decoded = decodeFixed(plain, opens[0].secureAggregation.fractionBits, opensBits);
    expect(decoded[decoded.length - 1]).toBe(inSum.reduce((s, k) => s + Math.min(RECORDS[k], opens[0].secureAggregation.weightCap ?? Infinity), 0));
    expect(await database.db.select().from(updates)).toEqual([]);
  });

  it('over a sparse graph, ends the round with nothing revealed when one neighbourhood falls below its threshold', async () => {
    const opens = await start({ secureAggregation: { fractionBits: null, neighbours: 4 } }, 7);
    const sockets = study!.sockets;
    const closed = nextEvent(sockets[0], 'round:closed');
    // Three of site 0's four neighbours close their tabs before advertising: 4 of 7 stay (the round's threshold), 2 of its neighbourhood of 5.
    const graph = new CommunicationGraph(7, opens[0].secureAggregation.graph!);
    const position = (index: number) => opens.findIndex((o) => o.secureAggregation.index === index);
    const gone = graph.neighboursOf(opens[0].secureAggregation.index).slice(0, 3).map(position);
    for (const k of gone) sockets[k].disconnect();
    for (const [k, open] of opens.entries()) if (!gone.includes(k)) clients[k].open(open, null);
    expect(await closed).toMatchObject({ round: 1, status: 'abandoned', version: null });
    const [row] = await database.db.select({ reason: rounds.closeReason }).from(rounds).orderBy(rounds.number).limit(1);
    expect(row.reason).toMatch(/secure aggregation: [0-2] of site \d's 5-site neighbourhood advertised keys; it needs 3 \(nothing was revealed\)/);
  });

  it('ends the round with nothing revealed when fewer than the threshold stay, and runs the next one', async () => {
    const opens = await start();
    const sockets = study!.sockets;
    const closed = nextEvent(sockets[0], 'round:closed');
    // Three of five close their tabs before advertising keys: two advertise, the threshold is three.
    for (const k of [2, 3, 4]) sockets[k].disconnect();
    for (const [k, open] of opens.entries()) if (k < 2) clients[k].open(open, null);
    expect(await closed).toMatchObject({ round: 1, status: 'abandoned', version: null });
    const [row] = await database.db.select({ reason: rounds.closeReason }).from(rounds).orderBy(rounds.number).limit(1);
    expect(row.reason).toMatch(/secure aggregation: 2 of 5 sampled sites advertised keys; it needs 3 \(nothing was revealed\)/);
  });

  it('refuses a plaintext update to a secure round, and a masked input from a site outside it', async () => {
    const opens = await start();
    const body = encodeWeights({ kind: 'update', meta: { studyId: STUDY, round: 1, baseVersion: 0, numSamples: 100, backend: 'cpu' }, tensors: delta(0).map((data, i) => ({ shape: shapes[i].shape, data })) });
    const token = await study!.token(0);
    const url = study!.server.url;
    const res = await fetch(`${url}/api/studies/${STUDY}/rounds/1/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'idempotency-key': 'plaintext-1' },
      body,
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/secure aggregation: a site sends a masked input, never its update/);
    const garbage = await fetch(`${url}/api/studies/${STUDY}/rounds/1/masked`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(40) });
    expect(garbage.status).toBe(400);
    void opens;
  });

  it('refuses settings the server cannot honour without seeing single updates', async () => {
    await target.reset(database);
    const create = (config: object) => createStudy(database.db, { id: STUDY, name: 'x', templateId: 'heart-risk', config: { secureAggregation: { fractionBits: null }, ...config } });
    await expect(create({ strategy: { name: 'median' } })).rejects.toThrow(/median strategy is unavailable under secure aggregation/);
    await expect(create({ clipping: { mode: 'adaptive' } })).rejects.toThrow(/secure aggregation needs clipping: \{ mode: 'fixed', norm \}/);
    await expect(create({ maxUpdateNorm: 5 })).rejects.toThrow(/maxUpdateNorm is unavailable under secure aggregation/);
  });
});
