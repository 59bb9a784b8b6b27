import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { io as connect } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startConsilium, type ConsiliumServer } from '../../e2e/support/server';
import type { ClientSocket } from '../testing/harness';
import { postgresUrl } from '../testing/databases';
import { SIGN_IN_FILE } from './signInFile';
import { tamperedSignature } from '../testing/tamper';

/*
 * The server as `npm start` runs it, its stdout and stderr captured as a container or CI captures
 * them (pipes, not a terminal), with every log line on: the first-start admin password and the
 * hospitals' sign-in links are in the sign-in file the banner names, and nowhere in that output.
 */

const kinds = ['pglite', ...(postgresUrl ? ['postgres'] : [])] as const;

async function freshDatabase(kind: (typeof kinds)[number]): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (kind === 'pglite') return { env: {}, drop: async () => {} };
  const name = `consilium_signin_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = () => postgres(postgresUrl!, { max: 1, onnotice: () => {} });
  const a = admin();
  await a.unsafe(`CREATE DATABASE ${name}`);
  await a.end();
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return {
    // The demo is seeded on PostgreSQL only when asked.
    env: { DATABASE_URL: url.toString(), DEMO: '1' },
    async drop() {
      const b = admin();
      await b.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await b.end();
    },
  };
}

const tokensIn = (text: string) => [...text.matchAll(/\/hospital\/([\w-]+\.[\w-]+\.[\w-]+)/g)].map((m) => m[1]);

/** Everything the server printed must hold none of these, not even a token's signature alone. */
function expectNoSecrets(output: string, secrets: string[]) {
  for (const s of secrets) {
    expect(output.includes(s), `a secret (${s.slice(0, 6)}…) reached the captured output`).toBe(false);
    if (s.split('.').length === 3) expect(output.includes(s.split('.')[2])).toBe(false);
  }
}

async function meWith(server: ConsiliumServer, token: string): Promise<number> {
  const res = await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** A hospital tab's control connection, joined to the heart study: the server logs the join. */
async function joinAsHospital(server: ConsiliumServer, token: string): Promise<void> {
  const s: ClientSocket = connect(server.url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  const ack = (await (s.timeout(10_000) as unknown as { emitWithAck(e: string, p: unknown): Promise<{ ok: boolean }> }).emitWithAck('hospital:join', { studyId: 'heart-demo', numSamples: 10 }));
  expect(ack.ok).toBe(true);
  s.disconnect();
}

/** `npm run admin:reset-password`, as a person runs it while the server is stopped; returns what it printed. */
function resetAdminPassword(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin-reset-password.ts'], { cwd: process.cwd(), env: { ...process.env, DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`admin:reset-password exited with ${code}: ${out}`))));
  });
}

describe.each(kinds)('secrets and the captured output of a started server (%s)', (kind) => {
  let server: ConsiliumServer | undefined;
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await server?.stop();
    await drop?.();
  });

  it('writes the admin password and the demo links to a 0600 sign-in file the banner names, never to stdout or stderr', async () => {
    const db = await freshDatabase(kind);
    drop = db.drop;
    const env = { ...db.env, LOG_LEVEL: 'trace' };
    server = await startConsilium({ env });
    const file = path.join(server.dataDir, SIGN_IN_FILE);
    expect(server.signInFile).toBe(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(server.admin.password).toMatch(/^\S{12,}$/);
    expect(server.hospitals.length).toBeGreaterThanOrEqual(3);
    expect(server.output()).toContain(`Sign-in details (admin password, hospital links), readable by this user only, in ${file}`);

    // Traffic that logs: a sign-in, hospitals reading who they are and joining, a refused link.
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(server.admin) });
    expect(login.status).toBe(200);
    for (const h of server.hospitals.slice(0, 3)) {
      expect(await meWith(server, h.token)).toBe(200);
      await joinAsHospital(server, h.token);
    }
    expect(await meWith(server, tamperedSignature(server.hospitals[0].token))).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    const firstLinks = server.hospitals.map((h) => h.token);
    // Logs were captured (JSON lines), so their silence about the secrets means something.
    expect(server.output()).toMatch(/^\{.*"msg":"hospital joined"/m);
    expectNoSecrets(server.output(), [server.admin.password, ...firstLinks]);

    // A restart makes new links (the earlier ones still work) and keeps the unchanged password in the file only.
    await server.restart();
    const second = fs.readFileSync(file, 'utf8');
    expect(second).toContain(`password: ${server.admin.password}`);
    const secondLinks = tokensIn(second);
    expect(secondLinks).toHaveLength(firstLinks.length);
    expect(secondLinks.filter((t) => firstLinks.includes(t))).toEqual([]);
    for (const t of [firstLinks[0], secondLinks[0]]) expect(await meWith(server, t)).toBe(200);
    expectNoSecrets(server.output(), [server.admin.password, ...firstLinks, ...secondLinks]);

    // A password reset: the next start no longer shows the old password, and never the new one.
    await server.kill();
    const reset = await resetAdminPassword({ ...db.env, DATA_DIR: server.dataDir });
    const newPassword = /New password for \S+: (\S+)/.exec(reset)![1];
    await server.start();
    const third = fs.readFileSync(file, 'utf8');
    expect(third).not.toContain(server.admin.password);
    expect(third).not.toContain(newPassword);
    expect(third).toMatch(/password: the one made at first start/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expectNoSecrets(server.output(), [server.admin.password, newPassword, ...firstLinks, ...secondLinks, ...tokensIn(third)]);
  }, 240_000);
});
