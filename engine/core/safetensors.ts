import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { shown, UserError } from './errors.js';

/** A tensor widened to fp32, with its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Floating-point dtypes read as fp32 (widened on load). */
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/**
 * Other dtypes a header may declare (integer and boolean buffers such as BERT's int64
 * `embeddings.position_ids`): checked like any tensor, never read as weights.
 */
const OTHER_BYTES: Record<string, number> = { F64: 8, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };

export type FloatDtype = 'F32' | 'F16' | 'BF16';
/** Headers larger than this are refused (the format's reference reader uses the same limit). */
const MAX_HEADER = 100_000_000;
/** Longest tensor name shown in a message. */
const NAME_SHOWN = 120;

/** One tensor as the header describes it, checked against the file: data at [begin, end) of the data section. */
export interface TensorEntry {
  name: string;
  /** F32, F16 or BF16 (read as fp32), or another dtype of OTHER_BYTES (never read as a weight). */
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A checked header: the tensors in header order and the metadata. */
export interface SafetensorsHeader {
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

function fail(file: string, problem: string): never {
  throw new UserError(`${file}: ${problem}`);
}

const quoteName = (name: string) => JSON.stringify(name.length > NAME_SHOWN ? `${name.slice(0, NAME_SHOWN)}…` : name);

/**
 * Reads a .safetensors file (8-byte little-endian header length, JSON header, raw data) into fp32
 * tensors. The whole header is checked against the file before any byte is used, so a truncated or
 * corrupt file is reported by name instead of producing wrong numbers.
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

/**
 * Reads and checks only the header of a .safetensors file (its tensors' names, dtypes, shapes and
 * offsets, checked against the file's size), without reading the data.
 */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    fail(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    const got = size >= 8 ? readSync(fd, head, 0, 8, 0) : 0;
    const headerLen = checkHeaderLength(file, head.subarray(0, got), size);
    const prefix = Buffer.alloc(8 + headerLen);
    head.copy(prefix);
    if (readSync(fd, prefix, 8, headerLen, 8) !== headerLen) fail(file, 'truncated while reading the header');
    return parseSafetensorsHeader(prefix, size, file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    fail(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks the header of a .safetensors file of `fileSize` bytes from its first bytes (`prefix`: the
 * length field and the JSON header, at least), without its data.
 */
export function parseSafetensorsHeader(prefix: Buffer, fileSize: number, file: string): SafetensorsHeader {
  const headerLen = checkHeaderLength(file, prefix.subarray(0, 8), fileSize);
  if (prefix.length < 8 + headerLen) fail(file, 'truncated while reading the header');
  return checkHeader(file, prefix.subarray(8, 8 + headerLen), fileSize - 8 - headerLen);
}

/** Parses a whole .safetensors file already in memory; `file` names it in errors. Every tensor must be F32, F16 or BF16. */
export function parseSafetensors(buf: Buffer, file: string): Map<string, Tensor> {
  const { tensors, ignored } = parseSafetensorsContents(buf, file);
  if (ignored.length > 0)
    fail(file, `tensor ${quoteName(ignored[0].name)} has dtype ${ignored[0].dtype}; shardlab reads F32, F16 and BF16`);
  return tensors;
}

/** A checkpoint file's floating-point tensors (widened to fp32) and the other tensors it holds, which were not read. */
export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  /** Integer and boolean tensors (buffers such as position_ids), in header order: never weights. */
  ignored: { name: string; dtype: string; shape: number[] }[];
}

/** Reads a .safetensors file: its F32, F16 and BF16 tensors as fp32, and the names of the others (ignored). */
export function readSafetensorsContents(file: string): SafetensorsContents {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    fail(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensorsContents(buf, file);
}

/** parseSafetensors for a checkpoint: tensors of other dtypes are listed as ignored instead of refused. */
export function parseSafetensorsContents(buf: Buffer, file: string): SafetensorsContents {
  const headerLen = checkHeaderLength(file, buf.subarray(0, 8), buf.length);
  const header = checkHeader(file, buf.subarray(8, 8 + headerLen), buf.length - 8 - headerLen);
  const data = buf.subarray(8 + headerLen);
  const tensors = new Map<string, Tensor>();
  const ignored: SafetensorsContents['ignored'] = [];
  for (const t of header.tensors) {
    if (isFloatDtype(t.dtype)) tensors.set(t.name, { shape: t.shape, data: toFloat32(t.dtype, data.subarray(t.begin, t.end)) });
    else ignored.push({ name: t.name, dtype: t.dtype, shape: t.shape });
  }
  return { tensors, ignored };
}

export function isFloatDtype(dtype: string): dtype is FloatDtype {
  return Object.hasOwn(BYTES, dtype);
}

/** The header length from the first 8 bytes, checked against the file's size. */
function checkHeaderLength(file: string, first: Buffer, size: number): number {
  if (first.length < 8 || size < 8) fail(file, `truncated: ${size} bytes, not even a safetensors header`);
  const n = first.readBigUInt64LE(0);
  if (n > BigInt(Math.min(MAX_HEADER, size - 8))) fail(file, `corrupt or truncated: header length ${n} does not fit in ${size} bytes`);
  return Number(n);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a header against the data section's length: a JSON object of tensors (and an optional
 * __metadata__ of strings), each with a dtype shardlab reads, a shape of integers >= 0 and offsets that
 * hold exactly its bytes; the tensors tile the data section in order, from 0 to its end, without gaps
 * or overlaps. Nothing is allocated from the header's numbers.
 */
function checkHeader(file: string, json: Buffer, dataLen: number): SafetensorsHeader {
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(json));
  } catch {
    fail(file, 'corrupt: the header is not valid JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail(file, 'corrupt: the header is not a JSON object of tensors');
  const metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, 'corrupt: __metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `corrupt: __metadata__ ${quoteName(k)} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(checkEntry(file, name, raw, dataLen));
  }
  // The tensors must tile the data section: sorted by offset, each starting where the previous ended.
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.begin !== at)
      fail(
        file,
        `corrupt: tensor ${quoteName(t.name)} starts at byte ${t.begin} of the data, expected ${at} (${t.begin < at ? 'it overlaps the previous tensor' : 'a gap before it'})`,
      );
    at = t.end;
  }
  if (at !== dataLen) fail(file, `corrupt: the tensors end at byte ${at} of the data, which has ${dataLen} (bytes left over)`);
  return { tensors, metadata };
}

function checkEntry(file: string, name: string, raw: unknown, dataLen: number): TensorEntry {
  const t = quoteName(name);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, `corrupt: tensor ${t} is not an object`);
  const e = raw as Record<string, unknown>;
  const { dtype, shape, data_offsets: offsets } = e;
  if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets))
    fail(file, `corrupt: tensor ${t} has no dtype, shape or data_offsets`);
  const width = Object.hasOwn(BYTES, dtype) ? BYTES[dtype] : Object.hasOwn(OTHER_BYTES, dtype) ? OTHER_BYTES[dtype] : 0;
  if (!width) fail(file, `tensor ${t} has dtype ${dtype.length > 20 ? `${dtype.slice(0, 20)}…` : dtype}; shardlab reads F32, F16 and BF16`);
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    fail(file, `corrupt: tensor ${t} has shape ${shown(shape)}; expected integers >= 0`);
  if (offsets.length !== 2 || !offsets.every((x) => Number.isSafeInteger(x) && (x as number) >= 0))
    fail(file, `corrupt: tensor ${t} has data_offsets ${shown(offsets)}; expected two integers >= 0`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(file, `corrupt: tensor ${t} has invalid data offsets [${begin}, ${end}]`);
  if (end > dataLen) fail(file, `truncated: tensor ${t} ends at byte ${end} of the data, which has only ${dataLen}`);
  // Its element count, stopping as soon as it cannot fit (so no product overflows).
  const dims = shape as number[];
  const limit = (end - begin) / width;
  let count = dims.includes(0) ? 0 : 1;
  for (const d of dims) if (count > 0 && (count *= d) > limit) break;
  if (count !== limit)
    fail(
      file,
      count > limit
        ? `corrupt: tensor ${t} of shape [${dims.join(', ')}] needs more than the ${end - begin} bytes it has`
        : `corrupt: tensor ${t} of shape [${dims.join(', ')}] needs ${count * width} bytes, has ${end - begin}`,
    );
  return { name, dtype, shape: [...dims], begin, end };
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

/** Every fp16 bit pattern's float value (fp16 to fp32 by lookup). */
export const HALF_TABLE = (() => {
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

const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);

/** The nearest fp16 (round to nearest, ties to even) of a float32, as its 16 bits. */
export function floatToHalf(x: number): number {
  F32_SCRATCH[0] = x;
  const u = U32_SCRATCH[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const frac = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal: the implicit 1 joins the fraction, shifted into place with rounding.
    const m = frac | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (frac >>> 13);
  const rest = frac & 0x1fff;
  // A carry out of the fraction rightly bumps the exponent (up to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/**
 * Writes fp32 tensors as a .safetensors file (names sorted, data in that order), each as F32 unless
 * `dtypeOf` says F16 for it (rounded to nearest).
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, dtypeOf: (name: string) => 'F32' | 'F16' = () => 'F32'): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const name of names) {
    const dtype = dtypeOf(name);
    const bytes = tensors[name].data.length * BYTES[dtype];
    header[name] = { dtype, shape: tensors[name].shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const data = names.map((n) => {
    const t = tensors[n].data;
    if (header[n].dtype === 'F32') return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
    const b = Buffer.alloc(t.length * 2);
    for (let i = 0; i < t.length; i++) b.writeUInt16LE(floatToHalf(t[i]), i * 2);
    return b;
  });
  return Buffer.concat([head, Buffer.from(json), ...data]);
}
