import { crc32 } from './crc32';

/**
 * Consilium weight container, little-endian:
 *
 *   magic "CNSW" | u8 format (1) | u8 kind (1 model, 2 update) | u16 tensor count
 *   u32 meta length | meta (UTF-8 JSON object) | zero padding to 4 bytes
 *   per tensor: u8 dtype (1 float32) | u8 rank | u16 0 | u32 dim × rank
 *   tensor data, float32, each tensor starting on a 4-byte boundary
 *   u32 CRC-32 of every byte before it
 *
 * One body carries a whole model or update, so a partial or corrupted upload is refused whole.
 * The data comes right after 4-byte-aligned headers, so on a little-endian host (every one we run
 * on) a decoder can read it in place as float32.
 */
export const MAGIC = 0x57534e43; // "CNSW" read as little-endian u32
export const FORMAT_VERSION = 1;
export const MAX_TENSORS = 4096;
export const MAX_RANK = 8;
const MAX_META_BYTES = 64 * 1024;

export type PayloadKind = 'model' | 'update';
const KIND_CODE: Record<PayloadKind, number> = { model: 1, update: 2 };
const DTYPE_FLOAT32 = 1;

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface WeightPayload<M extends object = Record<string, unknown>> {
  kind: PayloadKind;
  meta: M;
  tensors: Tensor[];
}

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

const align4 = (n: number) => (n + 3) & ~3;
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeWeights<M extends object>(payload: WeightPayload<M>): Uint8Array<ArrayBuffer> {
  const { tensors } = payload;
  if (tensors.length > MAX_TENSORS) throw new CodecError(`too many tensors: ${tensors.length} > ${MAX_TENSORS}`);
  const meta = new TextEncoder().encode(JSON.stringify(payload.meta));
  if (meta.length > MAX_META_BYTES) throw new CodecError('metadata too large');
  let headerBytes = 12 + align4(meta.length);
  for (const t of tensors) {
    if (t.shape.length > MAX_RANK) throw new CodecError(`rank ${t.shape.length} exceeds ${MAX_RANK}`);
    if (sizeOf(t.shape) !== t.data.length)
      throw new CodecError(`tensor of shape [${t.shape}] holds ${t.data.length} values`);
    headerBytes += 4 + 4 * t.shape.length;
  }
  const dataBytes = tensors.reduce((s, t) => s + 4 * t.data.length, 0);
  const total = headerBytes + dataBytes + 4;
  const buf = new ArrayBuffer(total);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, FORMAT_VERSION);
  view.setUint8(5, KIND_CODE[payload.kind]);
  view.setUint16(6, tensors.length, true);
  view.setUint32(8, meta.length, true);
  bytes.set(meta, 12);
  let off = 12 + align4(meta.length);
  for (const t of tensors) {
    view.setUint8(off, DTYPE_FLOAT32);
    view.setUint8(off + 1, t.shape.length);
    off += 4;
    for (const d of t.shape) {
      view.setUint32(off, d, true);
      off += 4;
    }
  }
  for (const t of tensors) {
    // Float32Array views are platform-endian: copied as bytes where that is little-endian.
    if (littleEndian) bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), off);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(off + 4 * i, t.data[i], true);
    off += 4 * t.data.length;
  }
  view.setUint32(off, crc32(bytes.subarray(0, off)), true);
  return bytes;
}

export interface DecodeOptions {
  /**
   * Give every tensor its own buffer. Without it tensors are, where the host is little-endian and
   * the input 4-byte aligned, views onto the input's bytes: no copy and no extra memory, but they
   * share the input's memory (change neither while the other is in use) and keep all of it alive.
   */
  copy?: boolean;
}

export function decodeWeights(input: Uint8Array | ArrayBufferLike, options: DecodeOptions = {}): WeightPayload {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < 16) throw new CodecError(`body too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CodecError('not a Consilium weight payload (bad magic)');
  const format = view.getUint8(4);
  if (format !== FORMAT_VERSION) throw new CodecError(`unsupported format version ${format}`);
  const kindCode = view.getUint8(5);
  const kind = (Object.keys(KIND_CODE) as PayloadKind[]).find((k) => KIND_CODE[k] === kindCode);
  if (!kind) throw new CodecError(`unknown payload kind ${kindCode}`);
  const end = bytes.length - 4;
  const expectedCrc = view.getUint32(end, true);
  if (crc32(bytes.subarray(0, end)) !== expectedCrc) throw new CodecError('checksum mismatch: the payload is corrupt or truncated');

  // The header as the streaming decoder reads it; here the whole body is at hand, so a header that
  // is not complete before the checksum runs past the end.
  const metaLen = view.getUint32(8, true);
  if (12 + metaLen > end) throw new CodecError('metadata length out of range');
  const layout = parseHeader(bytes.subarray(0, end));
  if (!layout) throw new CodecError('tensor header runs past the end');
  const { shapes, totalValues, meta } = layout;
  let off = layout.dataOffset;
  if (off + 4 * totalValues !== end)
    throw new CodecError(`data length mismatch: shapes need ${4 * totalValues} bytes, body holds ${end - off}`);
  const inPlace = littleEndian && (bytes.byteOffset + off) % 4 === 0;
  const tensors: Tensor[] = shapes.map((shape) => {
    const n = sizeOf(shape);
    let data: Float32Array;
    if (inPlace) {
      data = new Float32Array(bytes.buffer, bytes.byteOffset + off, n);
      if (options.copy) data = data.slice();
    } else if (littleEndian) {
      data = new Float32Array(bytes.slice(off, off + 4 * n).buffer);
    } else {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(off + 4 * i, true);
    }
    off += 4 * n;
    return { shape, data };
  });
  return { kind, meta, tensors };
}

/** The container's header, once read: what a decoder needs to find every value (see streamDecoder.ts). */
export interface StreamLayout {
  kind: PayloadKind;
  meta: Record<string, unknown>;
  shapes: number[][];
  /** Byte offset of the first tensor's data: value k of the flattened payload is at dataOffset + 4k. */
  dataOffset: number;
  totalValues: number;
  /** The whole body's length, CRC included. */
  totalBytes: number;
}

/** The layout once `bytes` hold the whole header; null while more is needed. Throws on a bad header. */
export function parseHeader(bytes: Uint8Array): StreamLayout | null {
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CodecError('not a Consilium weight payload (bad magic)');
  const format = view.getUint8(4);
  if (format !== FORMAT_VERSION) throw new CodecError(`unsupported format version ${format}`);
  const kind = (Object.keys(KIND_CODE) as PayloadKind[]).find((k) => KIND_CODE[k] === view.getUint8(5));
  if (!kind) throw new CodecError(`unknown payload kind ${view.getUint8(5)}`);
  const count = view.getUint16(6, true);
  if (count > MAX_TENSORS) throw new CodecError(`too many tensors: ${count} > ${MAX_TENSORS}`);
  const metaLen = view.getUint32(8, true);
  if (metaLen > MAX_META_BYTES) throw new CodecError('metadata length out of range');
  let off = 12 + align4(metaLen);
  if (bytes.length < off) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + metaLen)));
  } catch {
    throw new CodecError('metadata is not valid UTF-8 JSON');
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new CodecError('metadata must be a JSON object');
  const shapes: number[][] = [];
  let totalValues = 0;
  for (let t = 0; t < count; t++) {
    if (bytes.length < off + 4) return null;
    const dtype = view.getUint8(off);
    const rank = view.getUint8(off + 1);
    if (dtype !== 1) throw new CodecError(`tensor ${t}: unsupported dtype ${dtype}`);
    if (rank > MAX_RANK) throw new CodecError(`tensor ${t}: rank ${rank} exceeds ${MAX_RANK}`);
    off += 4;
    if (bytes.length < off + 4 * rank) return null;
    const shape: number[] = [];
    for (let r = 0; r < rank; r++, off += 4) shape.push(view.getUint32(off, true));
    shapes.push(shape);
    totalValues += shape.reduce((a, b) => a * b, 1);
  }
  if (!Number.isSafeInteger(4 * totalValues)) throw new CodecError('tensor shapes out of range');
  return { kind, meta: meta as Record<string, unknown>, shapes, dataOffset: off, totalValues, totalBytes: off + 4 * totalValues + 4 };
}
