/**
 * rwkv.cpp's model file (`.bin`, ggml magic): a 24-byte header, then tensor records until the end of
 * the file. Only FP32 and FP16 data is read; quantized files are refused, never misread.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../core/errors.js';
import { halfToFloat, type Tensor } from '../../core/safetensors.js';
import { GGML_MAGIC } from './detect.js';
import { checkWeights, mapFloats, perChannel, LAYER_NORM_EPS, type RwkvVersion, type RwkvWeights } from './weights.js';

const HEADER_BYTES = 24;
/** rwkv.cpp's data types past FP32 (0) and FP16 (1). */
const QUANTIZED: Record<number, string> = { 2: 'Q4_0', 3: 'Q4_1', 4: 'Q4_1_O', 5: 'Q4_2', 6: 'Q4_3', 7: 'Q5_0', 8: 'Q5_1', 9: 'Q8_0' };
/** Bounds on header numbers, so a garbled file is refused before anything is allocated from it. */
const MAX_VOCAB = 1 << 20;
const MAX_EMBD = 1 << 16;
const MAX_LAYERS = 1024;
const MAX_KEY = 1024;

interface BinHeader {
  fileVersion: number;
  vocab: number;
  embd: number;
  layers: number;
}

const typeName = (t: number) => (t === 0 ? 'FP32' : t === 1 ? 'FP16' : (QUANTIZED[t] ?? `data type ${t}`));

function refuseQuantized(file: string, type: number, where: string): never {
  throw new UserError(
    `${file}: ${where} is ${typeName(type)}, a quantized rwkv.cpp format shardlab does not read; convert the model to FP16 or FP32 (rwkv.cpp's convert_pytorch_to_ggml.py) and use that file`,
  );
}

function readHeader(buf: Buffer, file: string): BinHeader {
  if (buf.length < HEADER_BYTES) throw new UserError(`${file}: truncated: ${buf.length} bytes, less than an rwkv.cpp header`);
  const at = (i: number) => buf.readInt32LE(i * 4);
  if (at(0) !== GGML_MAGIC)
    throw new UserError(`${file}: not an rwkv.cpp model file (no ggml magic); give a .bin file or a model directory`);
  const [fileVersion, vocab, embd, layers, dataType] = [at(1), at(2), at(3), at(4), at(5)];
  if (fileVersion !== 100 && fileVersion !== 101)
    throw new UserError(`${file}: rwkv.cpp file version ${fileVersion}; shardlab reads versions 100 and 101`);
  const bad = (name: string, v: number, max: number) =>
    !Number.isInteger(v) || v < 1 || v > max ? new UserError(`${file}: corrupt header: ${name} ${v} is not from 1 to ${max}`) : undefined;
  const e = bad('n_vocab', vocab, MAX_VOCAB) ?? bad('n_embed', embd, MAX_EMBD) ?? bad('n_layer', layers, MAX_LAYERS);
  if (e) throw e;
  if (dataType !== 0 && dataType !== 1) refuseQuantized(file, dataType, 'the file');
  return { fileVersion, vocab, embd, layers };
}

/** The tensor records, by name, with PyTorch shapes (ggml's reversed) and data widened to fp32. */
function readRecords(buf: Buffer, file: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  let p = HEADER_BYTES;
  const truncated = (what: string): never => {
    throw new UserError(`${file}: truncated or corrupt: ${what} at byte ${p} runs past the end (${buf.length} bytes)`);
  };
  while (p < buf.length) {
    if (p + 12 > buf.length) truncated('a tensor record');
    const [dims, keyLen, dtype] = [buf.readInt32LE(p), buf.readInt32LE(p + 4), buf.readInt32LE(p + 8)];
    if (dims < 1 || dims > 4 || keyLen < 1 || keyLen > MAX_KEY)
      throw new UserError(`${file}: corrupt tensor record at byte ${p}: ${dims} dimensions, name of ${keyLen} bytes`);
    if (p + 12 + 4 * dims + keyLen > buf.length) truncated('a tensor record');
    const shape: number[] = [];
    for (let d = 0; d < dims; d++) shape.unshift(buf.readInt32LE(p + 12 + 4 * d));
    const name = buf.toString('utf8', p + 12 + 4 * dims, p + 12 + 4 * dims + keyLen);
    if (dtype !== 0 && dtype !== 1) refuseQuantized(file, dtype, `tensor ${JSON.stringify(name)}`);
    if (shape.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_VOCAB))
      throw new UserError(`${file}: corrupt tensor record ${JSON.stringify(name)}: shape [${shape.join(', ')}]`);
    const count = shape.reduce((a, b) => a * b, 1);
    const begin = p + 12 + 4 * dims + keyLen;
    const end = begin + count * (dtype === 0 ? 4 : 2);
    if (end > buf.length) truncated(`tensor ${JSON.stringify(name)}`);
    if (out.has(name)) throw new UserError(`${file}: corrupt: tensor ${JSON.stringify(name)} appears twice`);
    out.set(name, { shape, data: widen(buf.subarray(begin, end), dtype) });
    p = end;
  }
  return out;
}

function widen(bytes: Buffer, dtype: number): Float32Array {
  if (dtype === 0) {
    const out = new Float32Array(bytes.length / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(bytes.readUInt16LE(i * 2));
  return out;
}

/** v4 without ln_x; 5.2 with the gate; else 5.1 (rwkv.cpp's rule). */
function detectVersion(t: Map<string, Tensor>): RwkvVersion {
  if (!t.has('blocks.0.att.ln_x.weight')) return '4';
  return t.has('blocks.0.att.gate.weight') ? '5.2' : '5.1';
}

/**
 * rwkv.cpp stores decay already transformed (v4: −exp(w); v5: exp(−exp(w))) and "5.1"'s time_first as
 * exp(u); this puts both in the normalised convention (weights.ts).
 */
function normaliseWkv(t: Map<string, Tensor>, w: RwkvWeights, file: string): void {
  for (let i = 0; i < w.layers; i++) {
    const key = (k: string) => `blocks.${i}.att.${k}`;
    const decay = t.get(key('time_decay'));
    const bonus = t.get(key(w.version === '5.2' ? 'time_faaaa' : 'time_first'));
    if (!decay || !bonus) throw new UserError(`${file}: layer ${i} has no time_decay or bonus (time_first / time_faaaa)`);
    t.delete(key('time_faaaa'));
    if (w.version === '4') continue;
    const { heads: H, headSize: N } = w;
    const spread = (a: Float32Array) => (a.length === H ? perChannel(a, H, N) : a);
    t.set(key('time_decay'), { shape: [H, N], data: spread(mapFloats(decay.data, Math.log)) });
    t.set(key('time_first'), { shape: [H, N], data: spread(bonus.data) });
  }
}

/** Loads an rwkv.cpp FP32 or FP16 `.bin` model into the normalised form. */
export function loadBinFile(file: string): RwkvWeights {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const h = readHeader(buf, file);
  const tensors = readRecords(buf, file);
  const version = detectVersion(tensors);
  const ffnKey = tensors.get('blocks.0.ffn.key.weight');
  const decay = tensors.get('blocks.0.att.time_decay');
  if (!ffnKey || !decay) throw new UserError(`${file}: no blocks.0.ffn.key.weight or blocks.0.att.time_decay; not an RWKV model file`);
  const heads = version === '4' ? 1 : decay.shape[0];
  if (h.embd % heads !== 0) throw new UserError(`${file}: ${heads} heads do not divide n_embed ${h.embd}`);
  const w: RwkvWeights = {
    version,
    layers: h.layers,
    embd: h.embd,
    heads,
    headSize: h.embd / heads,
    ffn: ffnKey.shape[0],
    vocab: h.vocab,
    // rwkv.cpp's v5 GroupNorm uses eps 1e-5 (the pip package's 64e-5 breaks its vectors).
    groupNormEps: LAYER_NORM_EPS,
    tensors,
  };
  normaliseWkv(tensors, w, file);
  return checkWeights(w, file);
}
