import { siteStatistics } from '../../shared/fl/normalisation';
import type { RoundOpen } from '../../shared/protocol/schemas';
import { generateHeartRecords, type HospitalProfile } from '../../shared/synthetic';
import { heartRisk, heartRiskFeatures, weightShapes } from '../../shared/tasks';
import { decodeWeights, encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite, type CreateStudyInput } from '../studies/service';
import type { TestDatabaseTarget } from './databases';
import { connectSocket, emitAck, nextEvent, signIn, startServer, type ClientSocket, type RunningServer } from './harness';

/**
 * The start most round tests need: a fresh database holding a heart-risk study, its hospitals
 * enrolled, a server on it, a platform admin signed in, every hospital joined over Socket.IO with
 * its record count and its statistics sent, and round 1 open (each hospital's own opening).
 */
export interface HeartStudy {
  server: RunningServer;
  sockets: ClientSocket[];
  /** The admin's session headers. */
  admin: Record<string, string>;
  /** Round 1's opening as each hospital got it. */
  opened: RoundOpen[];
  /** An admin request to the server (JSON). */
  api(path: string, init?: RequestInit): Promise<Response>;
  token(k: number): Promise<string>;
  /** Disconnects the hospitals and stops the server. */
  stop(): Promise<void>;
}

export interface HeartStudyOptions {
  studyId: string;
  hospitals: readonly HospitalProfile[];
  /** The training records each hospital reports when it joins. */
  records: readonly number[];
  config?: CreateStudyInput['config'];
  /** Before any hospital joins: a place to listen on each socket (a secure round's client, say). */
  onSocket?(socket: ClientSocket, k: number, token: string, url: string): void;
}

export const heartShapes = weightShapes(heartRisk.model);

export async function startHeartStudy(target: TestDatabaseTarget, database: Database, o: HeartStudyOptions): Promise<HeartStudy> {
  await target.reset(database);
  for (const h of o.hospitals) await database.db.insert(sites).values({ id: h.id, name: h.name });
  await createStudy(database.db, { id: o.studyId, name: o.studyId, templateId: 'heart-risk', config: { minParticipants: o.hospitals.length, ...o.config } });
  for (const h of o.hospitals) await enrolSite(database.db, o.studyId, h.id);
  const server = await startServer(database);
  const { userId: _, ...admin } = await signIn(server);
  const sockets: ClientSocket[] = [];
  const token = (k: number) => server.consilium.tokens.hospitalLink(o.hospitals[k].id);
  const study: HeartStudy = {
    server,
    sockets,
    admin,
    opened: [],
    token,
    api: (path, init = {}) => fetch(`${server.url}${path}`, { ...init, headers: { ...admin, 'content-type': 'application/json', ...init.headers } }),
    async stop() {
      for (const s of sockets) s.disconnect();
      await server.stop();
    },
  };
  const opened: Promise<RoundOpen>[] = [];
  for (const [k, h] of o.hospitals.entries()) {
    const t = await token(k);
    const s = await connectSocket(server.url, { token: t });
    sockets.push(s);
    o.onSocket?.(s, k, t, server.url);
    opened.push(nextEvent(s, 'round:open'));
    const joined = await emitAck(s, 'hospital:join', { studyId: o.studyId, numSamples: o.records[k], backend: 'cpu' });
    if (!joined.ok) throw new Error(`${h.id} could not join: ${joined.error.message}`);
  }
  for (const [k, s] of sockets.entries()) {
    const ack = await emitAck(s, 'hospital:statistics', { studyId: o.studyId, statistics: siteStatistics(heartRiskFeatures, generateHeartRecords(o.hospitals[k])) });
    if (!ack.ok) throw new Error(`${o.hospitals[k].id}: statistics refused: ${ack.error.message}`);
  }
  study.opened = await Promise.all(opened);
  return study;
}

/** A hospital's plaintext update, uploaded; the response's status and JSON. */
export async function uploadDelta(study: HeartStudy, studyId: string, k: number, meta: { round: number; baseVersion: number; numSamples: number }, delta: Float32Array[]) {
  const body = encodeWeights({ kind: 'update', meta: { studyId, ...meta, backend: 'cpu' }, tensors: delta.map((data, i) => ({ shape: heartShapes[i].shape, data })) });
  const res = await fetch(`${study.server.url}/api/studies/${studyId}/rounds/${meta.round}/updates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await study.token(k)}`, 'content-type': 'application/octet-stream', 'idempotency-key': `key-${k}-round-${meta.round}-n${meta.numSamples}` },
    body,
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

/** A model version's weights, flat, as a hospital downloads them. */
export async function modelWeights(study: HeartStudy, studyId: string, version: number): Promise<number[]> {
  const res = await fetch(`${study.server.url}/api/studies/${studyId}/models/${version}`, { headers: { authorization: `Bearer ${await study.token(0)}` } });
  return decodeWeights(new Uint8Array(await res.arrayBuffer())).tensors.flatMap((t) => [...t.data]);
}
