import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    fail(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) fail(file, `truncated: ${size} bytes, not even a safetensors header`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER || 8 + headerLen > size)
      fail(file, `corrupt or truncated: header length ${headerLen} does not fit in ${size} bytes`);
    const headerBuf = Buffer.alloc(headerLen);
    readSync(fd, headerBuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch {
      fail(file, 'corrupt: the header is not valid JSON');
    }
    const dataStart = 8 + headerLen;
    const dataLen = size - dataStart;
    const out = new Map<string, Tensor>();
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const entry = checkEntry(file, name, raw, dataLen);
      const [begin, end] = entry.data_offsets;
      const bytes = Buffer.alloc(end - begin);
      readSync(fd, bytes, 0, end - begin, dataStart + begin);
      out.set(name, { shape: entry.shape, data: toFloat32(entry.dtype, bytes) });
    }
    return out;
  } finally {
    closeSync(fd);
  }
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
    for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(i * 4);
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
