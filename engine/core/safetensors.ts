import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/** A tensor widened to fp32, with its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** Headers larger than this are refused (the format's reference reader uses the same limit). */
const MAX_HEADER = 100_000_000;

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function fail(file: string, problem: string): never {
  throw new UserError(`${file}: ${problem}`);
}

/**
 * Reads a .safetensors file (8-byte little-endian header length, JSON header, raw data) into fp32
 * tensors. Every entry is checked against the file before any byte is used, so a truncated or corrupt
 * file is reported by name instead of producing wrong numbers.
 */
export function readSafetensors(file: string): Map<string, Tensor> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    fail(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(buf, file);
}

/** Parses a whole .safetensors file already in memory; `file` names it in errors. */
export function parseSafetensors(buf: Buffer, file: string): Map<string, Tensor> {
  if (buf.length < 8) fail(file, `truncated: ${buf.length} bytes, not even a safetensors header`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.length)
    fail(file, `corrupt or truncated: header length ${headerLen} does not fit in ${buf.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLen)) as Record<string, unknown>;
  } catch {
    fail(file, 'corrupt: the header is not valid JSON');
  }
  const data = buf.subarray(8 + headerLen);
  const out = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = checkEntry(file, name, raw, data.length);
    out.set(name, { shape: entry.shape, data: toFloat32(entry.dtype, data.subarray(...entry.data_offsets)) });
  }
  return out;
}

function checkEntry(file: string, name: string, raw: unknown, dataLen: number): Entry {
  const e = raw as Partial<Entry>;
  if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets))
    fail(file, `corrupt: tensor "${name}" has no dtype, shape or data_offsets`);
  const width = BYTES[e.dtype];
  if (!width) fail(file, `tensor "${name}" has dtype ${e.dtype}; shardlab reads F32, F16 and BF16`);
  const [begin, end] = e.data_offsets;
  const count = e.shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin)
    fail(file, `corrupt: tensor "${name}" has invalid data offsets [${begin}, ${end}]`);
  if (end > dataLen) fail(file, `truncated: tensor "${name}" ends at byte ${end} of the data, which has only ${dataLen}`);
  if (end - begin !== count * width)
    fail(file, `corrupt: tensor "${name}" of shape [${e.shape.join(', ')}] needs ${count * width} bytes, has ${end - begin}`);
  return e as Entry;
}

function toFloat32(dtype: string, bytes: Buffer): Float32Array {
  const n = bytes.length / BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(bytes); // little-endian host, as every platform Node runs on
    return out;
  }
  const u16 = new Uint16Array(n);
  for (let i = 0; i < n; i++) u16[i] = bytes.readUInt16LE(i * 2);
  if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = u16[i] << 16;
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = halfToFloat(u16[i]);
  return out;
}

const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    t[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

export function halfToFloat(h: number): number {
  return HALF_TABLE[h];
}

/** Writes fp32 tensors as a .safetensors file (names sorted, data in that order). */
export function encodeSafetensors(tensors: Record<string, Tensor>): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, Entry> = {};
  let offset = 0;
  for (const name of names) {
    const bytes = tensors[name].data.length * 4;
    header[name] = { dtype: 'F32', shape: tensors[name].shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const data = names.map((n) => {
    const t = tensors[n].data;
    return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  });
  return Buffer.concat([head, Buffer.from(json), ...data]);
}
