import { afterEach, describe, expect, it, vi } from 'vitest';
import { heartRisk, initialWeights, weightShapes } from '../../shared/tasks';
import { decodeWeights, encodeWeights } from '../../shared/weights';
import { ApiRequestError } from '../api/http';
import { encodeUpdate, fetchModel, newIdempotencyKey, postUpdate } from './transfer';

const spec = heartRisk.model;
const receipt = { accepted: true, duplicate: false, round: 1, received: 1, expected: 3 };
const meta = { studyId: 'heart-demo', round: 1, baseVersion: 0, numSamples: 10, backend: 'cpu' as const };
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('postUpdate', () => {
  it('sends the encoded update once, with its Idempotency-Key, to the round it was trained for', async () => {
    const calls: { url: string; key: string | null; type: string | null; body: Uint8Array; auth: string | null }[] = [];
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      calls.push({ url, key: headers.get('Idempotency-Key'), type: headers.get('Content-Type'), body: init.body as Uint8Array, auth: headers.get('Authorization') });
      return Promise.resolve(json(200, receipt));
    });
    const delta = initialWeights(spec, 1);
    const body = encodeUpdate(meta, spec, delta);
    const key = newIdempotencyKey();
    const got = await postUpdate({ token: 'tok', studyId: meta.studyId, round: meta.round, idempotencyKey: key, body });
    expect(got).toEqual(receipt);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ url: '/api/studies/heart-demo/rounds/1/updates', key, type: 'application/octet-stream', auth: 'Bearer tok' });
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    const decoded = decodeWeights(calls[0].body);
    expect(decoded.kind).toBe('update');
    expect(decoded.meta).toEqual(meta);
    expect(decoded.tensors.map((t) => t.shape)).toEqual(weightShapes(spec).map((s) => s.shape));
    expect(decoded.tensors.map((t) => t.data)).toEqual(delta);
  });

  it('reports a 4xx with its code and status, and a network failure as "network"', async () => {
    const body = encodeUpdate(meta, spec, initialWeights(spec, 1));
    const post = () => postUpdate({ token: 't', studyId: meta.studyId, round: 1, idempotencyKey: 'key-12345678', body }).catch((e) => e);
    vi.stubGlobal('fetch', () => Promise.resolve(json(409, { error: { code: 'round_not_open', message: 'round 1 is closed' } })));
    expect(await post()).toMatchObject({ code: 'round_not_open', status: 409 });
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    const err = await post();
    expect(err).toBeInstanceOf(ApiRequestError);
    expect(err).toMatchObject({ code: 'network', status: 0 });
    vi.stubGlobal('fetch', () => Promise.resolve(new Response('{"accepted":', { status: 200 })));
    expect(await post()).toMatchObject({ code: 'network' });
  });
});

describe('fetchModel', () => {
  it('decodes a model once per version and refuses one whose shapes do not match the spec', async () => {
    const weights = initialWeights(spec, 3);
    const shapes = weightShapes(spec);
    const good = encodeWeights({ kind: 'model', meta: {}, tensors: weights.map((data, i) => ({ shape: shapes[i].shape, data })) });
    const bad = encodeWeights({ kind: 'model', meta: {}, tensors: [{ shape: [2], data: new Float32Array(2) }] });
    const fetchSpy = vi.fn((url: string) => Promise.resolve(new Response(url.endsWith('/1') ? good : bad, { status: 200 })));
    vi.stubGlobal('fetch', fetchSpy);
    const a = await fetchModel('t', 'shape-test', 1, spec);
    const b = await fetchModel('t', 'shape-test', 1, spec);
    expect(a).toEqual(weights);
    expect(b).toBe(a);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    await expect(fetchModel('t', 'shape-test', 2, spec)).rejects.toThrow(/tensors, the spec needs/);
  });
});
