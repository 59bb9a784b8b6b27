import { CodecError, parseHeader, type StreamLayout } from './codec';

export type { StreamLayout } from './codec';
import { crc32 } from './crc32';

/**
 * The weight container (see codec.ts) decoded as it streams in, piece by piece, so an upload of any
 * size is checked while it arrives and never held whole: the header is parsed as soon as it is
 * complete (`onLayout`, where a caller can refuse the wrong shapes before the data comes), the data
 * is handed over as float32 values with their position in the flattened payload (`onValues`), and
 * the CRC-32 is continued over every piece and compared at `end`.
 */

export interface StreamDecoderOptions {
  onLayout?(layout: StreamLayout): void;
  /** Values [offset, offset + values.length) of the flattened payload; `values` is reused after the call returns. */
  onValues(offset: number, values: Float32Array): void;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class WeightStreamDecoder {
  private received = 0;
  private crc = 0;
  private header: Uint8Array = new Uint8Array(0);
  private layout: StreamLayout | null = null;
  /** Bytes of a value split across pieces (at most 3), and the stored CRC's bytes as they come. */
  private carry = new Uint8Array(4);
  private carried = 0;
  private trailer = new Uint8Array(4);
  private trailerBytes = 0;
  private scratch = new Float32Array(0);
  private valuesDone = 0;

  constructor(private readonly options: StreamDecoderOptions) {}

  /** Bytes taken so far. */
  get bytes(): number {
    return this.received;
  }

  get parsedLayout(): StreamLayout | null {
    return this.layout;
  }

  push(piece: Uint8Array): void {
    let chunk = piece;
    if (!this.layout) {
      const joined = new Uint8Array(this.header.length + chunk.length);
      joined.set(this.header);
      joined.set(chunk, this.header.length);
      const layout = parseHeader(joined);
      if (!layout) {
        this.header = joined;
        this.received += piece.length;
        return;
      }
      this.layout = layout;
      // The header's bytes, counted into the CRC and the total; the rest of `joined` is data.
      this.crc = crc32(joined.subarray(0, layout.dataOffset), 0);
      this.header = new Uint8Array(0);
      this.received = layout.dataOffset;
      this.options.onLayout?.(layout);
      chunk = joined.subarray(layout.dataOffset);
    }
    this.take(chunk);
  }

  /** After the last piece: the layout, once the length and CRC are right. */
  end(): StreamLayout {
    const layout = this.layout;
    if (!layout) {
      if (this.header.length < 16) throw new CodecError(`body too short (${this.header.length} bytes)`);
      throw new CodecError('the body ends inside its header');
    }
    if (this.received !== layout.totalBytes)
      throw new CodecError(`data length mismatch: shapes need ${4 * layout.totalValues} bytes, body holds ${Math.max(0, this.received - layout.dataOffset - 4)}`);
    const stored = new DataView(this.trailer.buffer).getUint32(0, true);
    if (stored !== this.crc >>> 0) throw new CodecError('checksum mismatch: the payload is corrupt or truncated');
    return layout;
  }

  private take(chunk: Uint8Array): void {
    const layout = this.layout!;
    const dataEnd = layout.dataOffset + 4 * layout.totalValues;
    if (this.received + chunk.length > layout.totalBytes)
      throw new CodecError(`data length mismatch: shapes need ${4 * layout.totalValues} bytes, body holds more`);
    // The part of the chunk before the CRC trailer is data; the rest is the trailer.
    const dataPart = Math.max(0, Math.min(chunk.length, dataEnd - this.received));
    if (dataPart > 0) {
      const data = chunk.subarray(0, dataPart);
      this.crc = crc32(data, this.crc);
      this.values(data);
    }
    for (let i = dataPart; i < chunk.length; i++) this.trailer[this.trailerBytes++] = chunk[i];
    this.received += chunk.length;
  }

  private values(data: Uint8Array): void {
    let at = 0;
    if (this.carried > 0) {
      while (this.carried < 4 && at < data.length) this.carry[this.carried++] = data[at++];
      if (this.carried < 4) return;
      this.emit(this.carry, 0, 1);
      this.carried = 0;
    }
    const whole = (data.length - at) >> 2;
    if (whole > 0) this.emit(data, at, whole);
    at += whole * 4;
    while (at < data.length) this.carry[this.carried++] = data[at++];
  }

  private emit(bytes: Uint8Array, at: number, count: number): void {
    if (this.scratch.length < count) this.scratch = new Float32Array(Math.max(count, 16 * 1024));
    const out = this.scratch.subarray(0, count);
    if (littleEndian) new Uint8Array(out.buffer, 0, count * 4).set(bytes.subarray(at, at + count * 4));
    else {
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * 4);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    }
    this.options.onValues(this.valuesDone, out);
    this.valuesDone += count;
  }
}
