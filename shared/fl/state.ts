import { crc32 } from '../weights/crc32';
import { strategyNames, type StrategyName } from './strategy';

/**
 * A server optimiser's memory between rounds (FedAvgM's velocity, Adam's moments), explicit so the
 * server keeps it in the database and a restarted or replayed round continues from the same bits.
 */
export interface ServerState {
  strategy: StrategyName;
  /** Server steps taken so far. */
  step: number;
  /** Named per-parameter buffers, each in the model's tensor layout. */
  slots: Record<string, Float32Array[]>;
}

export class StateCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateCodecError';
  }
}

const MAGIC = 0x53534e43; // "CNSS" read as little-endian u32
const align4 = (n: number) => (n + 3) & ~3;
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Header {
  v: 1;
  strategy: StrategyName;
  step: number;
  slots: [string, number[]][];
}

/**
 * `magic | u32 header length | header JSON | pad to 4 | float32 LE data, slot by slot | u32 CRC-32`.
 * The floats are copied bit for bit, so decode(encode(s)) continues exactly where s left off.
 */
export function encodeServerState(state: ServerState): Uint8Array<ArrayBuffer> {
  const header: Header = {
    v: 1,
    strategy: state.strategy,
    step: state.step,
    slots: Object.entries(state.slots).map(([name, ts]) => [name, ts.map((t) => t.length)]),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = 8 + align4(json.length);
  const floats = header.slots.reduce((s, [, lengths]) => s + lengths.reduce((a, b) => a + b, 0), 0);
  const buf = new ArrayBuffer(dataStart + 4 * floats + 4);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, json.length, true);
  bytes.set(json, 8);
  let off = dataStart;
  for (const tensors of Object.values(state.slots)) {
    for (const t of tensors) {
      if (littleEndian) bytes.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), off);
      else for (let i = 0; i < t.length; i++) view.setFloat32(off + 4 * i, t[i], true);
      off += t.byteLength;
    }
  }
  view.setUint32(off, crc32(bytes.subarray(0, off)), true);
  return bytes;
}

export function decodeServerState(input: Uint8Array): ServerState {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.byteLength < 12 || view.getUint32(0, true) !== MAGIC) throw new StateCodecError('not a server-state blob');
  const end = input.byteLength - 4;
  if (crc32(input.subarray(0, end)) !== view.getUint32(end, true)) throw new StateCodecError('server state is corrupted (CRC mismatch)');
  const jsonLength = view.getUint32(4, true);
  if (8 + jsonLength > end) throw new StateCodecError('server-state header runs past the end');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(input.subarray(8, 8 + jsonLength)));
  } catch {
    throw new StateCodecError('server-state header is not JSON');
  }
  if (header.v !== 1 || !strategyNames.includes(header.strategy) || !Number.isInteger(header.step) || !Array.isArray(header.slots))
    throw new StateCodecError('server-state header is malformed');
  let off = 8 + align4(jsonLength);
  const slots: Record<string, Float32Array[]> = {};
  for (const [name, lengths] of header.slots) {
    slots[name] = lengths.map((n) => {
      if (!Number.isInteger(n) || n < 0 || off + 4 * n > end) throw new StateCodecError('server-state data runs past the end');
      const t = new Float32Array(n);
      for (let i = 0; i < n; i++) t[i] = view.getFloat32(off + 4 * i, true);
      off += 4 * n;
      return t;
    });
  }
  if (off !== end) throw new StateCodecError('server state has trailing bytes');
  return { strategy: header.strategy, step: header.step, slots };
}
