import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHaproxyConfig, findHaproxy, haproxyConfig, startHaproxy, STICKY_COOKIE, type RunningHaproxy } from './haproxy';
import { freePort } from './ports';

const backends = [
  { name: 'consilium-0', host: '127.0.0.1', port: 41001 },
  { name: 'consilium-1', host: '127.0.0.1', port: 41002 },
  { name: 'consilium-2', host: '127.0.0.1', port: 41003 },
];

describe('haproxyConfig', () => {
  const text = haproxyConfig({ port: 8080, backends });

  it('listens on the front port, on 127.0.0.1 unless told', () => {
    expect(text).toMatch(/^\s+bind 127\.0\.0\.1:8080$/m);
    expect(haproxyConfig({ port: 9000, host: '0.0.0.0', backends })).toMatch(/^\s+bind 0\.0\.0\.0:9000$/m);
  });

  it('pins a browser to one process by an inserted cookie', () => {
    expect(text).toMatch(/^\s+cookie CONSILIUM_SERVER insert indirect nocache httponly$/m);
  });

  it('checks each process on /api/health often enough to drop a drained one within a second or two', () => {
    expect(text).toMatch(/^\s+option httpchk GET \/api\/health$/m);
    expect(text).toMatch(/^\s+http-check expect status 200$/m);
    expect(text).toMatch(/^\s+default-server inter 500 fall 2 rise 2$/m);
  });

  it('names every backend with its address, a health check and its own cookie value', () => {
    for (const b of backends) expect(text).toMatch(new RegExp(`^\\s+server ${b.name} 127\\.0\\.0\\.1:${b.port} check cookie ${b.name}$`, 'm'));
  });

  it('retries elsewhere, forwards the client address, keeps WebSockets for an hour', () => {
    for (const line of ['option redispatch', 'retries 3', 'option forwardfor', 'timeout tunnel 1h', 'balance roundrobin'])
      expect(text).toMatch(new RegExp(`^\\s+${line}$`, 'm'));
    expect(haproxyConfig({ port: 8080, backends, balance: 'leastconn' })).toMatch(/^\s+balance leastconn$/m);
  });

  it('runs unprivileged: no user, group, chroot or stats socket', () => {
    expect(text).not.toMatch(/^\s*(user|group|chroot|stats)\b/m);
  });

  it('refuses names HAProxy cannot take and duplicate backends', () => {
    expect(() => haproxyConfig({ port: 8080, backends: [{ name: 'two words', host: '127.0.0.1', port: 1 }] })).toThrow(/letters, digits/);
    expect(() => haproxyConfig({ port: 8080, backends: [backends[0], backends[0]] })).toThrow(/must differ/);
    expect(() => haproxyConfig({ port: 8080, backends: [] })).toThrow(/at least one backend/);
  });

  it.runIf(findHaproxy())('is accepted by `haproxy -c`', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-haproxy-'));
    try {
      for (const [i, config] of [text, haproxyConfig({ port: 8080, host: '::1', backends, balance: 'leastconn', maxconn: 2000 })].entries()) {
        const file = path.join(dir, `c${i}.cfg`);
        fs.writeFileSync(file, config);
        expect(() => checkHaproxyConfig(file)).not.toThrow();
      }
      const bad = path.join(dir, 'bad.cfg');
      fs.writeFileSync(bad, text.replace('balance roundrobin', 'balance nosuchthing'));
      expect(() => checkHaproxyConfig(bad)).toThrow(/refuses/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A stand-in process: answers with its name, and /api/health with 200 or, once draining, 503. */
function fakeProcess(name: string) {
  let draining = false;
  const server = http.createServer((req, res) => {
    if (req.url === '/api/health') {
      res.writeHead(draining ? 503 : 200).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  return {
    name,
    server,
    drain: () => (draining = true),
  };
}

function get(port: number, cookie?: string): Promise<{ body: string; setCookie?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: cookie ? { cookie } : {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ body, setCookie: res.headers['set-cookie']?.[0] }));
    });
    req.on('error', reject);
  });
}

describe.runIf(findHaproxy())('startHaproxy in front of two processes', () => {
  const processes = [fakeProcess('consilium-0'), fakeProcess('consilium-1')];
  let dir: string;
  let front: number;
  let haproxy: RunningHaproxy | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-haproxy-run-'));
    const ports = await Promise.all(processes.map((p) => new Promise<number>((r) => p.server.listen(0, '127.0.0.1', () => r((p.server.address() as { port: number }).port)))));
    front = await freePort();
    const config = haproxyConfig({ port: front, backends: processes.map((p, i) => ({ name: p.name, host: '127.0.0.1', port: ports[i] })) });
    haproxy = await startHaproxy({ config, dir });
  });

  afterAll(async () => {
    await haproxy?.stop();
    await Promise.all(processes.map((p) => new Promise((r) => p.server.close(r))));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes its configuration in the folder it is given', () => {
    expect(haproxy!.file).toBe(path.join(dir, 'haproxy.cfg'));
    expect(fs.readFileSync(haproxy!.file, 'utf8')).toContain(`bind 127.0.0.1:${front}`);
  });

  it('sets the sticky cookie, and a request that carries it reaches the same process every time', async () => {
    const first = await get(front);
    expect(first.setCookie).toMatch(new RegExp(`^${STICKY_COOKIE}=${first.body};`));
    expect(first.setCookie).toMatch(/HttpOnly/i);
    const cookie = `${STICKY_COOKIE}=${first.body}`;
    for (let i = 0; i < 6; i++) expect((await get(front, cookie)).body).toBe(first.body);
  });

  it("sends a drained process's browsers to the other one once its health check says 503", async () => {
    processes[0].drain();
    const cookie = `${STICKY_COOKIE}=consilium-0`;
    // Two failed checks 500 ms apart take it out; poll for that rather than time it.
    let answer = await get(front, cookie);
    while (answer.body === 'consilium-0') {
      await new Promise((r) => setTimeout(r, 100));
      answer = await get(front, cookie);
    }
    expect(answer.body).toBe('consilium-1');
    // The balancer re-pins the browser to the process that answered.
    expect(answer.setCookie).toMatch(new RegExp(`^${STICKY_COOKIE}=consilium-1;`));
  });

  it('stops, and its port closes', async () => {
    await haproxy!.stop();
    expect(haproxy!.process.exitCode !== null || haproxy!.process.signalCode !== null).toBe(true);
    await expect(get(front)).rejects.toThrow(/ECONNREFUSED/);
  });
});
