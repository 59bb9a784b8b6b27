import type { UpdateMeta, UploadReceipt } from '../../shared/protocol';
import { weightShapes, type ModelSpec } from '../../shared/tasks';
import { CodecError, decodeWeights, encodeWeights } from '../../shared/weights';
import { ApiRequestError, authHeaders, readApiError } from '../api/http';

/** Model and update transfer over HTTP: weights travel only between this worker and the server. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Network failures, 5xx, 408, 429 and bodies cut short are worth another try; any other 4xx is the
 * server's final word, and a model that does not fit the spec will not fit it next time either.
 */
function isRetryable(e: unknown): boolean {
  if (e instanceof ApiRequestError) return e.code === 'network' || e.status >= 500 || e.status === 408 || e.status === 429;
  return e instanceof CodecError || e instanceof TypeError;
}

interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  onAttempt?: (attempt: number) => void;
}

async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    opts.onAttempt?.(attempt);
    try {
      return await fn();
    } catch (e) {
      if (attempt >= opts.attempts || !isRetryable(e)) throw e;
      const delay = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      await sleep(delay * (0.75 + Math.random() * 0.5));
    }
  }
}

async function send(url: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiRequestError('network', `Cannot reach the server (${(e as Error).message})`);
  }
  if (!res.ok) throw await readApiError(res);
  return res;
}

const studyPath = (studyId: string) => `/api/studies/${encodeURIComponent(studyId)}`;

/** Model versions are immutable, so a decoded version is kept for the worker's lifetime (a few). */
const modelCache = new Map<string, Promise<Float32Array[]>>();
const MODEL_CACHE_SIZE = 4;

export function fetchModel(token: string, studyId: string, version: number, spec: ModelSpec): Promise<Float32Array[]> {
  const key = `${studyId}@${version}`;
  let cached = modelCache.get(key);
  if (!cached) {
    cached = withRetry(
      async () => {
        const res = await send(`${studyPath(studyId)}/models/${version}`, {
          headers: { ...authHeaders(token), Accept: 'application/octet-stream' },
        });
        return checkModel(decodeWeights(await res.arrayBuffer()), spec, version);
      },
      { attempts: 5, baseDelayMs: 400, maxDelayMs: 4_000 },
    );
    modelCache.set(key, cached);
    cached.catch(() => modelCache.delete(key));
    while (modelCache.size > MODEL_CACHE_SIZE) modelCache.delete(modelCache.keys().next().value!);
  }
  return cached;
}

function checkModel(payload: ReturnType<typeof decodeWeights>, spec: ModelSpec, version: number): Float32Array[] {
  if (payload.kind !== 'model') throw new Error(`model ${version}: expected a model payload, got ${payload.kind}`);
  const shapes = weightShapes(spec);
  if (payload.tensors.length !== shapes.length)
    throw new Error(`model ${version}: ${payload.tensors.length} tensors, the spec needs ${shapes.length}`);
  payload.tensors.forEach((t, i) => {
    const want = shapes[i].shape;
    if (t.shape.length !== want.length || t.shape.some((d, k) => d !== want[k]))
      throw new Error(`model ${version}: tensor ${shapes[i].name} has shape [${t.shape}], expected [${want}]`);
  });
  return payload.tensors.map((t) => t.data);
}

export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; plain-http LAN deployments still deserve unique keys.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The update's wire form: encoded once, so every attempt sends the very same bytes. */
export function encodeUpdate(meta: UpdateMeta, spec: ModelSpec, delta: Float32Array[]): Uint8Array {
  const shapes = weightShapes(spec);
  return encodeWeights({ kind: 'update', meta, tensors: delta.map((data, i) => ({ shape: shapes[i].shape, data })) });
}

/** A stalled connection must not hold an update forever; the outbox tries again after this. */
const UPLOAD_TIMEOUT_MS = 120_000;

/** A binary body POSTed under an Idempotency-Key, so that a retry is recognised as one. */
function postBody(url: string, opts: { token: string; idempotencyKey: string; body: Uint8Array; timeoutMs?: number }): Promise<Response> {
  return send(url, {
    method: 'POST',
    headers: {
      ...authHeaders(opts.token),
      'Content-Type': 'application/octet-stream',
      'Idempotency-Key': opts.idempotencyKey,
      Accept: 'application/json',
    },
    body: opts.body as BodyInit,
    signal: AbortSignal.timeout(opts.timeoutMs ?? UPLOAD_TIMEOUT_MS),
  });
}

/**
 * One upload attempt of an encoded update to the round it was trained for. Retrying is the
 * outbox's business (web/training/outbox.ts): it stores the update first and sends it with the same
 * Idempotency-Key until the server acknowledges or refuses it.
 */
export async function postUpdate(opts: {
  token: string;
  studyId: string;
  round: number;
  idempotencyKey: string;
  body: Uint8Array;
  timeoutMs?: number;
}): Promise<UploadReceipt> {
  const res = await postBody(`${studyPath(opts.studyId)}/rounds/${opts.round}/updates`, opts);
  try {
    return (await res.json()) as UploadReceipt;
  } catch (e) {
    // The server may have stored the update before the answer was cut: the retry is acknowledged as a duplicate.
    throw new ApiRequestError('network', `The server's receipt was cut short (${(e as Error).message})`);
  }
}

/**
 * A secure round's masked input (shared/fl/secagg/wire.ts). It is not kept in the outbox: its keys
 * live only in this worker and the round's steps are timed, so it is retried a few times at once and
 * the site otherwise drops out of the round (its update is then not in the sum, as the protocol allows).
 */
export async function postMasked(opts: { token: string; studyId: string; round: number; idempotencyKey: string; body: Uint8Array }): Promise<{ duplicate: boolean }> {
  return withRetry(
    async () => {
      const res = await postBody(`${studyPath(opts.studyId)}/rounds/${opts.round}/masked`, opts);
      const receipt = (await res.json()) as { duplicate?: boolean };
      return { duplicate: receipt.duplicate === true };
    },
    { attempts: 4, baseDelayMs: 500, maxDelayMs: 4_000 },
  );
}
