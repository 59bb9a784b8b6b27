import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsilium, type ConsiliumServer, type DemoHospitalLink } from '../../e2e/support/server';
import { siteStatistics } from '../../shared/fl/normalisation';
import type { Dashboard, RoundOpen, SecureRound } from '../../shared/protocol/schemas';
import type { RoundDetail } from '../../shared/protocol/roundDetail';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRiskFeatures } from '../../shared/tasks';
import { emitAck, type ClientSocket } from '../testing/harness';
import { heartShapes } from '../testing/heartStudy';
import { SecureClient } from '../testing/secureClient';

/**
 * A server process killed (SIGKILL) in the middle of a secure round: the round's keys, shares and
 * masked inputs lived only in its memory, so after the restart the round is abandoned with nothing
 * revealed (no version, no update or masked input stored), and the next round runs and closes with
 * the sites' sum.
 */
const STUDY = 'secure-crash';
const RECORDS = [210, 130, 70];

const delta = (k: number, round: number) =>
  heartShapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + round * 3 + t + i) * 0.01));

async function adminSession(server: ConsiliumServer): Promise<Record<string, string>> {
  const res = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(server.admin) });
  expect(res.status).toBe(200);
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('consilium_csrf='))?.split('=')[1] ?? '';
  return { cookie: cookies.join('; '), 'x-csrf-token': csrf };
}

interface Site {
  socket: ClientSocket;
  client: SecureClient;
}

/** A hospital joins the secure study over Socket.IO, its secure client opening every secure round it is sent. */
async function join(server: ConsiliumServer, h: DemoHospitalLink, k: number, errors: unknown[], opened: (round: number) => void): Promise<Site> {
  const socket: ClientSocket = connect(server.url, { transports: ['websocket'], auth: { token: h.token }, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const client = new SecureClient({ url: server.url, studyId: STUDY, token: h.token, id: h.siteId, onError: (e) => errors.push(e) }, socket);
  const open = (r: RoundOpen) => {
    if (r.studyId !== STUDY || !r.secureAggregation) return;
    client.open(r as RoundOpen & { secureAggregation: SecureRound }, null);
    opened(r.round);
  };
  socket.on('round:open', open);
  const joined = (await emitAck(socket, 'hospital:join', { studyId: STUDY, numSamples: RECORDS[k], backend: 'cpu' })) as {
    ok: boolean;
    data?: { statisticsNeeded?: boolean; openRound?: RoundOpen | null };
  };
  expect(joined.ok).toBe(true);
  if (joined.data?.statisticsNeeded)
    expect(await emitAck(socket, 'hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, generateHeartRecords(demoHospitals[k])) })).toMatchObject({ ok: true });
  if (joined.data?.openRound) open(joined.data.openRound);
  return { socket, client };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, server: ConsiliumServer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${server.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a server killed in the middle of a secure round', () => {
  let server: ConsiliumServer;
  let admin: Record<string, string>;
  const errors: unknown[] = [];
  let sites: Site[] = [];

  beforeAll(async () => {
    server = await startConsilium({ env: { DEMO: '1', DEMO_DEADLINE_MS: '600000' } });
    admin = await adminSession(server);
  }, 60_000);

  afterAll(async () => {
    for (const s of sites) s.socket.disconnect();
    await server?.stop();
  });

  it('abandons the round with nothing revealed after the restart, and the next round closes with the sum', async () => {
    const hospitals = server.hospitals.slice(0, 3);
    const created = await fetch(`${server.url}/api/studies`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: STUDY,
        name: 'Secure, killed mid-round',
        templateId: 'heart-risk',
        siteIds: hospitals.map((h) => h.siteId),
        config: { rounds: 2, minParticipants: 3, roundDeadlineMs: 600_000, secureAggregation: { fractionBits: null }, clipping: { mode: 'fixed', norm: 2 } },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);

    // Round 1: keys advertised and shared by all three; two masked inputs in, the third still training.
    const opened = new Set<string>();
    sites = await Promise.all(hospitals.map((h, k) => join(server, h, k, errors, (r) => opened.add(`${k}/${r}`))));
    await until('round 1 opened for the three', () => [0, 1, 2].every((k) => opened.has(`${k}/1`)), server);
    for (const k of [0, 1]) await sites[k].client.submit(1, delta(k, 1), RECORDS[k]);
    await until('two masked inputs in', () => sites[0].client.ringInputs.has(1) && sites[1].client.ringInputs.has(1), server);

    await server.kill('SIGKILL');
    for (const s of sites) s.socket.disconnect();
    await server.start();

    // The tabs come back; round 1 is gone with the process's memory, round 2 opens for them.
    opened.clear();
    sites = await Promise.all(hospitals.map((h, k) => join(server, h, k, errors, (r) => opened.add(`${k}/${r}`))));
    await until('round 2 opened for the three', () => [0, 1, 2].every((k) => opened.has(`${k}/2`)), server);
    for (const [k, s] of sites.entries()) await s.client.submit(2, delta(k, 2), RECORDS[k]);

    const dashboard = async () => (await (await fetch(`${server.url}/api/studies/${STUDY}/dashboard`, { headers: admin })).json()) as Dashboard;
    await until('round 2 closed', async () => (await dashboard()).rounds.some((r) => r.round === 2 && r.status === 'closed'), server);
    const d = await dashboard();
    // An abandoned round made no version and does not count against the study's rounds: round 3 opens next.
    expect(d.rounds.slice(0, 2).map((r) => [r.round, r.status, r.version])).toEqual([
      [1, 'abandoned', null],
      [2, 'closed', 1],
    ]);
    const detail = async (round: number) => (await (await fetch(`${server.url}/api/studies/${STUDY}/rounds/${round}`, { headers: admin })).json()) as RoundDetail;
    const first = await detail(1);
    expect(first.closeReason).toMatch(/restarted during the round.*nothing was revealed/);
    // Nothing of round 1 was kept: no update, no masked input, no version.
    expect(first.updates).toEqual([]);
    expect(first.bytesIn.accepted).toBe(0);
    expect(d.rounds.find((r) => r.round === 2)?.secure).toEqual({ threshold: 2, survivors: 3 });
    expect(errors).toEqual([]);
  }, 120_000);
});
