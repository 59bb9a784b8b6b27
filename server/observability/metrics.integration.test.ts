import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allHeartDemoHospitals } from '../../shared/synthetic';
import type { Database } from '../db/client';
import { testDatabaseTargets } from '../testing/databases';
import { nextEvent, signIn, startServer, type RunningServer } from '../testing/harness';
import { heartShapes, startHeartStudy, uploadDelta, type HeartStudy } from '../testing/heartStudy';

/**
 * `GET /metrics` through a real server: a round with an update refused and two accepted, scraped and
 * read back with a parser of Prometheus's text exposition format (0.0.4) that fails on anything a
 * Prometheus server would reject; and who may scrape.
 */
const STUDY = 'metrics-test';
const HOSPITALS = allHeartDemoHospitals.slice(0, 2);
const RECORDS = [120, 80];
const TOKEN = 'metrics-token-0123456789abcdef';

const delta = (k: number) => heartShapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 5 + t * 3 + i) * 0.01));

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  type: string;
  help?: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`);
/** A float as Go's strconv.ParseFloat reads it (Prometheus's rule), specials in any case: prom-client writes NaN as `Nan`. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan|[+-]?inf(?:inity)?)$/i;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

function parseValue(text: string): number {
  if (!VALUE.test(text)) throw new Error(`not a sample value: '${text}'`);
  const special = text.toLowerCase().replace(/^\+/, '');
  return special.endsWith('nan') ? Number.NaN : special.startsWith('inf') ? Infinity : special.startsWith('-inf') ? -Infinity : Number(text);
}

/** Prometheus's text format, strictly: every rule a scrape would fail on is an error here. */
function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const done = new Set<string>();
  let current: string | null = null;
  const enter = (name: string) => {
    if (current === name) return;
    if (done.has(name)) throw new Error(`the lines of ${name} are not together`);
    if (current) done.add(current);
    current = name;
  };
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${i + 1} '${line}'`;
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`${where}: bad metric name`);
      enter(name);
      const family = families.get(name) ?? { type: 'untyped', samples: [] };
      families.set(name, family);
      if (kind === 'HELP') {
        if (family.help !== undefined) throw new Error(`${where}: a second HELP`);
        family.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
        if (family.samples.length || (family as { typed?: boolean }).typed) throw new Error(`${where}: TYPE after samples or twice`);
        family.type = rest;
        (family as { typed?: boolean }).typed = true;
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: not a sample line`);
    const name = m[1];
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (m[2] ?? '').matchAll(new RegExp(LABEL, 'g'))) {
      if (key in labels) throw new Error(`${where}: label ${key} twice`);
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const owner = current && (name === current || (SUFFIXES[families.get(current)!.type] ?? []).some((s) => name === current + s)) ? current : name;
    enter(owner);
    const family = families.get(owner) ?? { type: 'untyped', samples: [] };
    families.set(owner, family);
    family.samples.push({ name, labels, value: parseValue(m[m.length - 2]) });
  }
  for (const [name, f] of families) if (f.type === 'histogram') checkHistogram(name, f);
  return families;
}

/** Per label set: buckets by rising `le`, cumulative, ending at +Inf equal to _count, with a _sum. */
function checkHistogram(name: string, f: Family) {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${name}_bucket`) entry.buckets.push([parseValue(le), s.value]);
    else if (s.name === `${name}_sum`) entry.sum = s.value;
    else if (s.name === `${name}_count`) entry.count = s.value;
    else throw new Error(`${s.name} in histogram ${name}`);
  }
  for (const [key, { buckets, sum, count }] of series) {
    if (sum === undefined || count === undefined) throw new Error(`${name}${key}: no _sum or _count`);
    if (buckets.at(-1)?.[0] !== Infinity || buckets.at(-1)?.[1] !== count) throw new Error(`${name}${key}: no le="+Inf" bucket equal to _count`);
    for (let i = 1; i < buckets.length; i++)
      if (!(buckets[i][0] > buckets[i - 1][0]) || buckets[i][1] < buckets[i - 1][1]) throw new Error(`${name}${key}: buckets not rising or not cumulative`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`. */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}

describe('the exposition parser of this test', () => {
  it('accepts what Prometheus accepts and refuses what it refuses', () => {
    const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"uote"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1.5\nh_count 2\n';
    expect(valueOf(parseExposition(good), 'a_total', { x: 'q"uote' })).toBe(3);
    expect(() => parseExposition('a 1\nb 2\na 3\n')).toThrow(/not together/);
    expect(() => parseExposition('a 1\n# TYPE a gauge\n')).toThrow(/TYPE after samples/);
    expect(() => parseExposition('a{x=1} 1\n')).toThrow(/not a sample line/);
    expect(() => parseExposition('a one\n')).toThrow(/not a sample value/);
    expect(Object.is(valueOf(parseExposition('a Nan\nb -Inf\n'), 'a'), Number.NaN)).toBe(true);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n')).toThrow(/\+Inf/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/\+Inf|cumulative/);
  });
});

describe.each(testDatabaseTargets())('Prometheus metrics at /metrics ($name)', (target) => {
  let database: Database;
  let study: HeartStudy | null = null;
  let server: RunningServer | null = null;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  afterEach(async () => {
    await study?.stop();
    await server?.stop();
    study = null;
    server = null;
  });

  const scrape = (url: string, headers: Record<string, string> = {}) => fetch(`${url}/metrics`, { headers });

  it('counts the uploads accepted and refused by reason, the rounds by status, the aggregation, the sites and the socket events', async () => {
    study = await startHeartStudy(target, database, { studyId: STUDY, hospitals: HOSPITALS, records: RECORDS, config: { rounds: 3 } });
    const nan = delta(0);
    nan[1][3] = Number.NaN;
    const refused = await uploadDelta(study, STUDY, 0, { round: 1, baseVersion: 0, numSamples: RECORDS[0] - 1 }, nan);
    expect(refused.body.error?.code).toBe('update_not_finite');
    const closed = nextEvent(study.sockets[0], 'round:closed');
    for (const k of [0, 1]) expect((await uploadDelta(study, STUDY, k, { round: 1, baseVersion: 0, numSamples: RECORDS[k] }, delta(k))).status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, status: 'closed', version: 1 });
    await study.server.consilium.coordinator.settle();

    // From this machine, no token configured: open.
    const res = await scrape(study.server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(await res.text());

    expect(families.get('consilium_uploads_total')?.type).toBe('counter');
    expect(valueOf(families, 'consilium_uploads_total', { outcome: 'accepted' })).toBe(2);
    expect(valueOf(families, 'consilium_uploads_total', { outcome: 'refused', reason: 'update_not_finite' })).toBe(1);
    expect(families.get('consilium_uploads_total')!.samples.filter((s) => s.labels.outcome === 'refused')).toHaveLength(1);

    // Round 1 closed with its version; round 2 opened from it.
    expect(families.get('consilium_rounds')?.type).toBe('gauge');
    expect(Object.fromEntries(families.get('consilium_rounds')!.samples.map((s) => [s.labels.status, s.value]))).toEqual({ open: 1, aggregating: 0, closed: 1, abandoned: 0 });

    expect(families.get('consilium_aggregation_seconds')?.type).toBe('histogram');
    expect(valueOf(families, 'consilium_aggregation_seconds_count')).toBe(1);
    expect(valueOf(families, 'consilium_aggregation_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(valueOf(families, 'consilium_aggregation_seconds_sum')).toBeGreaterThan(0);

    expect(valueOf(families, 'consilium_connected_sites')).toBe(2);

    // Each hospital joined once and sent its statistics once; nothing else reached the server.
    const events = Object.fromEntries(families.get('consilium_socket_events_total')!.samples.map((s) => [s.labels.event, s.value]));
    expect(events).toEqual({ 'hospital:join': 2, 'hospital:statistics': 2 });

    // Node's own: event-loop lag and process memory, under their standard names.
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    expect(valueOf(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(valueOf(families, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    // A site leaving is seen at the next scrape (once the server has handled its disconnect: presence's handler runs first).
    const gone = study.sockets[1];
    const handled = new Promise((resolve) => study!.server.consilium.io!.of('/').sockets.get(gone.id!)!.once('disconnect', resolve));
    gone.disconnect();
    await handled;
    expect(valueOf(parseExposition(await (await scrape(study.server.url)).text()), 'consilium_connected_sites')).toBe(1);
  });

  it('asks for the bearer token when one is configured: none or a wrong one is refused, whatever the address', async () => {
    await target.reset(database);
    server = await startServer(database, { metricsToken: TOKEN });
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }]) {
      const res = await scrape(server.url, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    }
    // An admin's session is no substitute for the token.
    const { userId: _, ...admin } = await signIn(server);
    expect((await scrape(server.url, admin)).status).toBe(401);
    const ok = await scrape(server.url, { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.9' });
    expect(ok.status).toBe(200);
    expect(parseExposition(await ok.text()).get('consilium_rounds')?.samples).toHaveLength(4);
  });

  it('without a token, serves this machine and platform admins only: a proxied request is refused', async () => {
    await target.reset(database);
    server = await startServer(database);
    expect((await scrape(server.url)).status).toBe(200);
    // Through a reverse proxy, even one on this machine, the request is not local.
    const proxied = { 'x-forwarded-for': '203.0.113.9' };
    const refused = await scrape(server.url, proxied);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/set METRICS_TOKEN/);
    expect((await scrape(server.url, { forwarded: 'for=203.0.113.9' })).status).toBe(401);
    const { userId: _a, ...admin } = await signIn(server);
    expect((await scrape(server.url, { ...proxied, ...admin })).status).toBe(200);
    const { userId: _p, ...patient } = await signIn(server, { role: 'patient' });
    expect((await scrape(server.url, { ...proxied, ...patient })).status).toBe(403);
  });
});
