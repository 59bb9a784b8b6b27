import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ConsiliumApp } from '../app';
import type { Database } from '../db/client';
import { testDatabaseTargets } from '../testing/databases';

const pglite = testDatabaseTargets()[0];

/** `directive -> sources` of a Content-Security-Policy header. */
function csp(header: string | null): Map<string, string[]> {
  expect(header, 'a Content-Security-Policy header').toBeTruthy();
  return new Map(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name.toLowerCase(), sources]),
  );
}

describe('security headers', () => {
  let database: Database;
  let plain: ConsiliumApp;
  let overTls: ConsiliumApp;

  beforeAll(async () => {
    database = await pglite.open();
    plain = await createApp({ database });
    overTls = await createApp({ database, tls: true });
  });
  afterAll(async () => {
    await plain?.close();
    await overTls?.close();
    await pglite.dispose(database);
  });

  // The API, an error and a page: every answer carries the headers, not only the happy path.
  const paths = ['/api/health', '/api/no-such-route', '/'];

  it('sends a CSP under which the training worker, WebAssembly and WebGPU still run, and nothing else loads', async () => {
    for (const path of paths) {
      const policy = csp((await plain.app.request(path)).headers.get('content-security-policy'));
      expect(policy.get('default-src')).toEqual(["'self'"]);
      // The worker is a same-origin module, and a bundler may hand it over as a blob: URL.
      expect(policy.get('worker-src')).toEqual(expect.arrayContaining(["'self'", 'blob:']));
      // The wasm backend compiles WebAssembly: that takes 'wasm-unsafe-eval', and no more than that.
      expect(policy.get('script-src')).toEqual(expect.arrayContaining(["'self'", "'wasm-unsafe-eval'"]));
      expect(policy.get('script-src')).not.toContain("'unsafe-eval'");
      expect(policy.get('script-src')).not.toContain("'unsafe-inline'");
      // The worker fetches the .wasm binaries and models from the server; Socket.IO needs ws(s).
      expect(policy.get('connect-src')).toContain("'self'");
      expect(policy.get('connect-src')).toEqual(expect.arrayContaining(['ws:', 'wss:']));
      expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
      expect(policy.get('object-src')).toEqual(["'none'"]);
      // WebGPU has no CSP directive of its own: nothing here may block navigator.gpu.
      expect([...policy.keys()].filter((d) => /gpu|require-trusted-types|sandbox/.test(d))).toEqual([]);
    }
  });

  it('forbids sniffing and framing', async () => {
    for (const path of paths) {
      const res = await plain.app.request(path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('sends HSTS only when served over TLS', async () => {
    for (const path of paths) {
      expect((await plain.app.request(path)).headers.get('strict-transport-security')).toBeNull();
      const hsts = (await overTls.app.request(path)).headers.get('strict-transport-security');
      expect(hsts).toMatch(/^max-age=(\d+); includeSubDomains$/);
      expect(Number(hsts!.match(/max-age=(\d+)/)![1])).toBeGreaterThanOrEqual(365 * 24 * 3600);
    }
  });
});
