import { Validator } from '@seriousme/openapi-schema-validator';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ConsiliumApp } from '../app';
import type { Database } from '../db/client';
import { testDatabaseTargets } from '../testing/databases';
import { registeredRoutes, undocumentedRoutes } from './coverage';

/**
 * `GET /api/openapi.json` describes every REST route the app registers, and is a valid OpenAPI 3.1
 * document; `GET /api/docs` renders it from this server's own files. A route added without a
 * `doc(...)` fails here, named.
 */

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Each `$ref` in the document, with where it sits. */
function refsOf(node: unknown, at = '#', out: { ref: string; at: string }[] = []) {
  if (Array.isArray(node)) node.forEach((v, i) => refsOf(v, `${at}/${i}`, out));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at });
      else refsOf(v, `${at}/${k}`, out);
    }
  return out;
}

/** Follows a local JSON pointer (`#/components/schemas/ApiError`); undefined where it leads nowhere. */
function resolvePointer(document: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => decodeURIComponent(p).replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Json)[key] : undefined), document);
}

function operations(document: Json): { method: string; path: string; op: Json }[] {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ method, path: p, op: op as Json })),
  );
}

describe.each(testDatabaseTargets())('the OpenAPI document ($name)', (target) => {
  let database: Database;
  let consilium: ConsiliumApp;
  let document: Json;
  let staticDir: string;

  beforeAll(async () => {
    database = await target.open();
    // A built SPA, so its catch-all routes are registered as in production and left out by rule.
    staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-openapi-'));
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Consilium</title>');
    consilium = await createApp({ database, staticDir });
    const res = await consilium.app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    document = (await res.json()) as Json;
  });
  afterAll(async () => {
    await consilium?.close();
    await target.dispose(database);
    fs.rmSync(staticDir, { recursive: true, force: true });
  });

  it('describes every route the app registers', () => {
    const routes = registeredRoutes(consilium.app);
    // The walk sees the whole API, not only the router's first level.
    expect(routes.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual(
      expect.arrayContaining(['GET /api/health', 'POST /api/auth/login', 'POST /api/studies/{id}/rounds/{round}/updates', 'GET /api/openapi.json', 'GET /api/docs']),
    );
    expect(undocumentedRoutes(consilium.app, document), 'routes missing from /api/openapi.json: add a doc({...}) to each').toEqual([]);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? [], 'errors against the OpenAPI 3.1 schema').toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('declares each path parameter, and only those, on every operation', () => {
    for (const { method, path: p, op } of operations(document)) {
      const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const params = ((op.parameters ?? []) as Json[]).map((x) => (x.$ref ? (resolvePointer(document, x.$ref) as Json) : x));
      const declared = params.filter((x) => x.in === 'path');
      expect(declared.map((x) => x.name).sort(), `${method.toUpperCase()} ${p}`).toEqual(inPath);
      for (const x of declared) expect(x.required, `${method.toUpperCase()} ${p} {${x.name}} is required`).toBe(true);
    }
  });

  it('resolves every $ref', () => {
    const refs = refsOf(document);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => resolvePointer(document, r.ref) === undefined)).toEqual([]);
  });

  it('gives each operation a summary, a known tag, a success answer and security from the declared schemes', () => {
    const tags = new Set((document.tags as Json[]).map((t) => t.name));
    const schemes = new Set(Object.keys(document.components.securitySchemes));
    for (const { method, path: p, op } of operations(document)) {
      const name = `${method.toUpperCase()} ${p}`;
      expect(op.summary, name).toBeTruthy();
      expect(op.tags?.length, name).toBeGreaterThan(0);
      for (const tag of op.tags) expect(tags.has(tag), `${name}: tag ${tag} is listed in the document's tags`).toBe(true);
      expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), `${name} has a 2xx answer`).toBe(true);
      expect(Array.isArray(op.security), `${name} says who may call it`).toBe(true);
      for (const requirement of op.security) for (const scheme of Object.keys(requirement)) expect(schemes.has(scheme), `${name}: ${scheme}`).toBe(true);
    }
  });

  it('takes bodies, parameters and answers from the zod schemas the routes check them with', () => {
    const login = document.paths['/api/auth/login'].post;
    expect(login.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: ['email', 'password'], properties: { email: { format: 'email' } } });
    expect(login.security).toEqual([]);
    // The route parses its numbers from digits only: the parameter says so.
    const round = (document.paths['/api/studies/{id}/rounds/{round}'].get.parameters as Json[]).find((x) => x.name === 'round')!;
    expect(round.schema).toMatchObject({ type: 'string', pattern: '^[0-9]{1,10}$' });
    const health = document.paths['/api/health'].get.responses['200'].content['application/json'].schema;
    expect(health.properties).toHaveProperty('database');
    expect(health.properties).toHaveProperty('uptimeSeconds');
    // An admin-only write needs the session and the CSRF header.
    expect(document.paths['/api/studies/{id}/pause'].post.security).toEqual([{ session: [], csrf: [] }]);
    const audit = (document.paths['/api/audit'].get.parameters as Json[]).map((x) => `${x.in} ${x.name}`);
    expect(audit).toEqual(expect.arrayContaining(['query limit', 'query before', 'query studyId']));
  });

  it('serves the reference page and its files from this server, without signing in', async () => {
    const page = await consilium.app.request('/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(0);
    // The CSP allows this origin's scripts only, and a hospital network may reach no CDN.
    for (const s of sources.filter((x) => !x.startsWith('data:'))) expect(s, 'a file of this server').toMatch(/^\/api\/docs\//);
    expect(html).not.toMatch(/<script>(?!<)/);
    for (const s of sources.filter((x) => !x.startsWith('data:'))) {
      const res = await consilium.app.request(s);
      expect(res.status, s).toBe(200);
      expect(res.headers.get('content-type'), s).toMatch(/javascript|css/);
    }
    expect((await consilium.app.request('/api/docs/swagger-ui-bundle.js.map')).status).toBe(404);
  });
});
