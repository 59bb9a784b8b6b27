import { CodecError } from '../../shared/weights/codec';
import { WeightStreamDecoder, type StreamLayout } from '../../shared/weights/streamDecoder';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { BlobStore, BlobWriter } from '../storage/blobStore';

/**
 * An upload taken in as it streams: every piece is written to the blob store's temporary file,
 * decoded and measured (finite values, sum of squares, largest magnitude) on the way, so the body is
 * never held whole. What comes out is the payload's layout and figures, and the writer, still
 * uncommitted: the caller commits it once the update is accepted, or aborts it.
 */
export interface ReceivedUpdate {
  layout: StreamLayout;
  /** L2 norm, the float64 sum of squares taken in order, as `checkTensors` takes it. */
  norm: number;
  maxAbs: number;
  /** The first value that is NaN or infinite, if any: its position in the flattened update and the value. */
  nonFinite: { flatIndex: number; value: number } | null;
  bytes: number;
  writer: BlobWriter;
}

export type UploadBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Uint8Array;

/** `seen.bytes` counts what arrived, also when the upload is refused part-way (for the record of refusals). */
export async function receiveUpdate(blobs: BlobStore, body: UploadBody, maxBytes: number, seen = { bytes: 0 }): Promise<ReceivedUpdate> {
  let squares = 0;
  let maxAbs = 0;
  let nonFinite: ReceivedUpdate['nonFinite'] = null;
  const decoder = new WeightStreamDecoder({
    onValues(offset, values) {
      let s = squares;
      let m = maxAbs;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        // v − v is NaN for NaN and ±Infinity alike: one comparison on the hot path.
        if (v - v !== 0) {
          nonFinite ??= { flatIndex: offset + i, value: v };
          continue;
        }
        s += v * v;
        const a = v < 0 ? -v : v;
        if (a > m) m = a;
      }
      squares = s;
      maxAbs = m;
    },
  });
  const writer = blobs.writer();
  try {
    for await (const piece of pieces(body)) {
      if (decoder.bytes + piece.byteLength > maxBytes) throw new ConsiliumError(ErrorCode.PayloadTooLarge, `an update may not exceed ${maxBytes} bytes`, 413);
      seen.bytes += piece.byteLength;
      decoder.push(piece);
      await writer.write(piece);
    }
    const layout = decoder.end();
    return { layout, norm: Math.sqrt(squares), maxAbs, nonFinite, bytes: layout.totalBytes, writer };
  } catch (err) {
    await writer.abort();
    if (err instanceof CodecError) throw new ConsiliumError(ErrorCode.MalformedUpdate, `malformed update: ${err.message}`, 400);
    throw err;
  }
}

async function* pieces(body: UploadBody): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  yield* body as AsyncIterable<Uint8Array>;
}
