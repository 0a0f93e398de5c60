/**
 * The bytes of one shard file (one layer x slice x bitwidth). Little-endian, 4-byte aligned up to the
 * packed indices:
 *
 *   0  "SLSH"            magic
 *   4  u16 version       SHARD_FORMAT_VERSION
 *   6  u8  bits          2..6, or 32 for fp32
 *   7  u8  codec         0 = fp32, 1 = dictionary (GOBO)
 *   8  u16 layer, u16 slice
 *  12  u32 weights       matrix values in the slice
 *  16  u32 biases        fp32 bias values in the slice
 *  20  u32 outliers      fp32 (position, value) pairs
 *  24  u32 centroids     2^bits for the dictionary codec, 0 for fp32
 *  28  u32 reserved (0)
 *  32  f32 centroids[], u32 outlier positions[], f32 outlier values[], f32 biases[],
 *      then packed indices (dictionary) or f32 weights[] (fp32)
 */
import { dequantizeInto, packedBytes, type Quantized } from './codec.js';

export const SHARD_MAGIC = 'SLSH';
export const SHARD_FORMAT_VERSION = 1;
const HEADER = 32;

export type Codec = 'fp32' | 'gobo';

export interface ShardContent {
  layer: number;
  slice: number;
  bits: number;
  biases: Float32Array;
  /** The fp32 weights (codec fp32) or their quantized form (codec gobo). */
  weights: Float32Array | Quantized;
}

export function codecOf(bits: number): Codec {
  return bits === 32 ? 'fp32' : 'gobo';
}

export function encodeShard(c: ShardContent): Buffer {
  const q = c.weights instanceof Float32Array ? undefined : c.weights;
  const count = q ? q.count : (c.weights as Float32Array).length;
  const arrays: ArrayBufferView[] = q
    ? [q.centroids, q.outlierPositions, q.outlierValues, c.biases, q.packed]
    : [c.biases, c.weights as Float32Array];
  const head = Buffer.alloc(HEADER);
  head.write(SHARD_MAGIC, 0, 'latin1');
  head.writeUInt16LE(SHARD_FORMAT_VERSION, 4);
  head.writeUInt8(c.bits, 6);
  head.writeUInt8(q ? 1 : 0, 7);
  head.writeUInt16LE(c.layer, 8);
  head.writeUInt16LE(c.slice, 10);
  head.writeUInt32LE(count, 12);
  head.writeUInt32LE(c.biases.length, 16);
  head.writeUInt32LE(q ? q.outlierPositions.length : 0, 20);
  head.writeUInt32LE(q ? q.centroids.length : 0, 24);
  return Buffer.concat([head, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
}

/** Why a shard's bytes cannot be used; the store turns this into a message naming the file. */
export class ShardFormatError extends Error {}

function f32(buf: Buffer, offset: number, n: number): Float32Array {
  const at = buf.byteOffset + offset;
  // A view when aligned; a Buffer from a small pool may sit at an offset that is not, and is copied.
  return at % 4 === 0 ? new Float32Array(buf.buffer, at, n) : new Float32Array(buf.buffer.slice(at, at + 4 * n));
}

/**
 * Decodes a shard and writes its weights and biases into `weightsOut` / `biasesOut`. The caller has
 * already checked size and checksum against the manifest; this checks the header's own claims.
 */
export function decodeShardInto(
  buf: Buffer,
  expect: { layer: number; slice: number; bits: number },
  weightsOut: Float32Array,
  biasesOut: Float32Array,
): void {
  if (buf.length < HEADER || buf.toString('latin1', 0, 4) !== SHARD_MAGIC)
    throw new ShardFormatError('not a shardlab shard file (bad magic)');
  const version = buf.readUInt16LE(4);
  if (version !== SHARD_FORMAT_VERSION)
    throw new ShardFormatError(`shard format version ${version}; this shardlab reads version ${SHARD_FORMAT_VERSION}`);
  const bits = buf.readUInt8(6);
  const codec = buf.readUInt8(7);
  const layer = buf.readUInt16LE(8);
  const slice = buf.readUInt16LE(10);
  if (bits !== expect.bits || layer !== expect.layer || slice !== expect.slice)
    throw new ShardFormatError(
      `holds layer ${layer} slice ${slice} at ${bits} bits, the manifest says layer ${expect.layer} slice ${expect.slice} at ${expect.bits}`,
    );
  const count = buf.readUInt32LE(12);
  const nb = buf.readUInt32LE(16);
  const no = buf.readUInt32LE(20);
  const nc = buf.readUInt32LE(24);
  if (count !== weightsOut.length || nb !== biasesOut.length)
    throw new ShardFormatError(`holds ${count} weights and ${nb} biases, the model needs ${weightsOut.length} and ${biasesOut.length}`);
  const body = codec === 1 ? 4 * (nc + 2 * no + nb) + packedBytes(count, bits) : 4 * (nb + count);
  if ((codec !== 0 && codec !== 1) || (codec === 1 && nc !== 2 ** bits) || HEADER + body !== buf.length)
    throw new ShardFormatError(`inconsistent header (codec ${codec}, ${nc} centroids, ${buf.length} bytes)`);
  let at = HEADER;
  if (codec === 0) {
    biasesOut.set(f32(buf, at, nb));
    weightsOut.set(f32(buf, at + 4 * nb, count));
    return;
  }
  const centroids = f32(buf, at, nc);
  at += 4 * nc;
  const outlierPositions = new Uint32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + 4 * no));
  at += 4 * no;
  const outlierValues = f32(buf, at, no);
  at += 4 * no;
  biasesOut.set(f32(buf, at, nb));
  at += 4 * nb;
  for (let k = 0; k < no; k++)
    if (outlierPositions[k] >= count) throw new ShardFormatError(`outlier position ${outlierPositions[k]} is past the ${count} weights`);
  const packed = new Uint8Array(buf.buffer, buf.byteOffset + at, buf.length - at);
  dequantizeInto({ bits, count, centroids, outlierPositions, outlierValues, packed }, weightsOut);
}
