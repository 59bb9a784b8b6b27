import { Hono } from 'hono';
import type { IncomingMessage } from 'node:http';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { roundParamSchema, studyIdParamSchema } from '../../shared/protocol/params';
import { roundDetailSchema } from '../../shared/protocol/roundDetail';
import { uploadReceiptSchema } from '../../shared/protocol/schemas';
import type { Db } from '../db/client';
import { BadParameterError, pathParam } from '../http/params';
import { requireAdmin, requireHospital, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { eq } from 'drizzle-orm';
import { participants } from '../db/schema';
import type { Coordinator } from './coordinator';
import { buildRoundDetail } from './detail';
import type { ModelDownloads } from './downloads';

const idempotencyKeySchema = /^[A-Za-z0-9_-]{8,128}$/;

export function roundRoutes(deps: { db: Db; coordinator: Coordinator; maxUpdateBytes: number; downloads: ModelDownloads }) {
  const { db, coordinator } = deps;
  // An enrolment is never undone (a site is suspended instead, which sign-in checks): a study's
  // enrolments are loaded in one query and kept; a site not found reloads them (it may be new).
  const enrolled = new Map<string, Map<string, string>>();
  const participantOf = async (studyId: string, siteId: string): Promise<string | null> => {
    const known = enrolled.get(studyId)?.get(siteId);
    if (known) return known;
    const rows = await db.select({ id: participants.id, siteId: participants.siteId }).from(participants).where(eq(participants.studyId, studyId));
    enrolled.set(studyId, new Map(rows.map((r) => [r.siteId, r.id])));
    return enrolled.get(studyId)!.get(siteId) ?? null;
  };
  const maskedDoc = doc({
    tag: 'Rounds',
    summary: "Upload a hospital's masked input (secure aggregation)",
    description: 'Ring words, never an update (shared/fl/secagg/wire.ts); at most twice the largest update.',
    access: 'hospital',
    params: { id: studyIdParamSchema, round: roundParamSchema },
    binaryBody: 'The masked input, as application/octet-stream.',
    response: '`{ accepted: true, duplicate }`: duplicate is true when this site had already sent it.',
    errors: { 409: 'The round is not collecting masked inputs.', 413: 'Larger than a masked input may be.', 415: 'Not application/octet-stream.' },
  });
  const uploadDoc = doc({
    tag: 'Rounds',
    summary: "Upload a hospital's model update for a round",
    description: 'The encoded update (shared/weights) streamed as application/octet-stream. A retry with the same Idempotency-Key is answered with the first receipt; the server checks shape, finite values, norm bound, round and sender.',
    access: 'hospital',
    params: { id: studyIdParamSchema, round: roundParamSchema },
    headers: { 'Idempotency-Key': { description: '8 to 128 letters, digits, - or _: the same key for every retry of one upload.', required: true } },
    binaryBody: 'The encoded update.',
    response: uploadReceiptSchema,
    errors: { 409: 'The round is not open, or this site already sent a different update.', 413: 'Larger than an update of this model may be.', 415: 'Not application/octet-stream.', 429: 'Too many uploads.' },
  });
  return new Hono<AppEnv>()
    .get('/:id/rounds/:round', doc({ tag: 'Rounds', summary: "A round's detail", description: 'Timeline, bytes in and out, update norms against the bound, aggregation weights and the sampled sites.', access: 'admin', params: { id: studyIdParamSchema, round: roundParamSchema }, response: roundDetailSchema }), async (c) => {
      // The admin console's round detail: timeline, bytes, norms against the bound, weights, selection.
      requireAdmin(c);
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const round = pathParam(c, 'round', roundParamSchema);
      return c.json(await buildRoundDetail(db, deps.downloads, studyId, round));
    })
    .post('/:id/rounds/:round/masked', maskedDoc, async (c) => {
      // Secure aggregation's masked input: ring words, never an update (shared/fl/secagg/wire.ts).
      const p = requireHospital(c);
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const round = pathParam(c, 'round', roundParamSchema);
      const participantId = await participantOf(studyId, p.siteId);
      if (!participantId) throw new ConsiliumError(ErrorCode.Forbidden, 'this hospital is not enrolled in that study', 403);
      if (!(c.req.header('content-type') ?? '').startsWith('application/octet-stream'))
        throw new ConsiliumError(ErrorCode.BadRequest, 'masked inputs are sent as application/octet-stream', 415);
      // A 64-bit ring holds two words a value: twice an update's bytes at most.
      const limit = 2 * deps.maxUpdateBytes;
      if (Number(c.req.header('content-length') ?? 0) > limit) throw new ConsiliumError(ErrorCode.PayloadTooLarge, `a masked input may not exceed ${limit} bytes`, 413);
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (body.length > limit) throw new ConsiliumError(ErrorCode.PayloadTooLarge, `a masked input may not exceed ${limit} bytes`, 413);
      return c.json({ accepted: true, ...(await coordinator.submitMasked(studyId, round, participantId, body)) });
    })
    .post(
      // Any `:round` reaches the handler: one that is no round number is refused there, and recorded.
      '/:id/rounds/:round/updates',
      uploadDoc,
      async (c, next) => {
        // A declared length over the limit is refused before a byte is read; a chunked body is counted
        // as it streams (intake stops at the limit). Hono's bodyLimit would buffer a chunked body whole.
        const declared = Number(c.req.header('content-length') ?? 0);
        if (declared > deps.maxUpdateBytes) throw new ConsiliumError(ErrorCode.PayloadTooLarge, `an update may not exceed ${deps.maxUpdateBytes} bytes`, 413);
        await next();
      },
      async (c) => {
        const p = requireHospital(c);
        const studyId = pathParam(c, 'id', studyIdParamSchema);
        const participantId = await participantOf(studyId, p.siteId);
        if (!participantId) throw new ConsiliumError(ErrorCode.Forbidden, 'this hospital is not enrolled in that study', 403);
        let round: number;
        try {
          round = pathParam(c, 'round', roundParamSchema);
        } catch (err) {
          // Refused before a byte of the body is read, and recorded among the refused updates the
          // admins see, with the text that was sent in the reason.
          if (err instanceof BadParameterError) await coordinator.refuseUnread({ studyId, participantId, roundText: err.raw ?? '' }, err);
          throw err;
        }
        const key = c.req.header('idempotency-key');
        if (!key || !idempotencyKeySchema.test(key))
          throw new ConsiliumError(ErrorCode.BadRequest, 'an Idempotency-Key header (8 to 128 letters, digits, - or _) is required', 400);
        const type = c.req.header('content-type') ?? '';
        if (!type.startsWith('application/octet-stream'))
          throw new ConsiliumError(ErrorCode.BadRequest, 'updates are sent as application/octet-stream', 415);
        // Streamed into the blob store as it arrives: never held whole in memory. Under Node the request
        // is read as the Node stream it is (the web stream built over it costs more than the upload).
        const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
        const body = incoming && !incoming.readableEnded ? incoming : (c.req.raw.body ?? new Uint8Array(0));
        const receipt = await coordinator.submitUpdate({ studyId, round, participantId, idempotencyKey: key, body });
        return c.json(receipt);
      },
    );
}
