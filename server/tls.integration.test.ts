import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert, type SelfSignedCert } from './testing/selfSignedCert';

/** One GET over https, trusting the throwaway certificate for this request only. */
function get(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('the server over HTTPS (TLS_CERT_FILE and TLS_KEY_FILE)', () => {
  let cert: SelfSignedCert;
  let dataDir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let url: string;

  beforeAll(async () => {
    cert = selfSignedCert();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-tls-data-'));
    child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: process.cwd(),
      env: { ...process.env, DEMO: '0', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '', PUBLIC_URL: '', TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start within 90 s:\n${output}`)), 90_000);
      const onData = (d: Buffer) => {
        output += d;
        const m = output.match(/Consilium is running at (\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${code}:\n${output}`));
      });
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    cert?.remove();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('announces an https address', () => {
    expect(url).toMatch(/^https:\/\/localhost:\d+$/);
  });

  it('answers /api/health over https, with HSTS', async () => {
    const port = new URL(url).port;
    const res = await get(`https://127.0.0.1:${port}/api/health`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok', database: { kind: 'pglite', reachable: true } });
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+; includeSubDomains$/);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves Socket.IO on the same https server', async () => {
    const port = new URL(url).port;
    const res = await get(`https://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.slice(1))).toHaveProperty('sid');
  });
});
