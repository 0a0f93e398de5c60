/**
 * The project's RWKV model directory: config.json, model.safetensors with official RWKV-LM parameter
 * names and PyTorch shapes (F16 or F32 per tensor, WKV parameters raw as trained), and optionally
 * reference-logits.json written by the PyTorch script that trained it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, shown, UserError } from '../../core/errors.js';
import { encodeSafetensors, readSafetensors, readSafetensorsHeader, type Tensor } from '../../core/safetensors.js';
import {
  checkWeights,
  expectedShapes,
  LAYER_NORM_EPS,
  mapFloats,
  type LowRankShape,
  type RwkvVersion,
  type RwkvWeights,
} from './weights.js';

export interface RwkvConfig {
  model_type: 'rwkv';
  version: RwkvVersion;
  n_layer: number;
  n_embd: number;
  /** v5 only (v4 has no heads). */
  head_size?: number;
  dim_ffn: number;
  vocab_size: number;
  /** v5's GroupNorm eps (64e-5 for models trained with head_size_divisor 8 and eps 1e-5). */
  groupnorm_eps?: number;
  tokenizer?: string;
  /** A factored model (RWKV-edge's low-rank projections): its factor, rank D/f and kind. */
  lowrank?: LowRankShape;
}

const VERSIONS: readonly RwkvVersion[] = ['4', '5.1', '5.2'];
const LIMITS = { n_layer: 1024, n_embd: 65536, head_size: 4096, dim_ffn: 1 << 20, vocab_size: 1 << 20 };

/** Reads and checks config.json: every field present, of its type and within bounds. */
export function readRwkvConfig(dir: string): RwkvConfig {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new UserError(`${file}: missing; an RWKV model directory needs config.json and model.safetensors`);
  const j = parseJson(readFileSync(file, 'utf8'), file, 'fix or replace it') as Record<string, unknown> | null;
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new UserError(`${file}: not a JSON object`);
  const bad = (field: string, want: string): never => {
    throw new UserError(`${file}: ${field} is ${shown(j[field])}; expected ${want}`);
  };
  if (j.model_type !== 'rwkv') bad('model_type', '"rwkv"');
  if (!VERSIONS.includes(j.version as RwkvVersion)) bad('version', VERSIONS.map((v) => `"${v}"`).join(', '));
  const v4 = j.version === '4';
  for (const [field, max] of Object.entries(LIMITS)) {
    if (field === 'head_size' && v4 && j[field] === undefined) continue;
    const x = j[field];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) bad(field, `an integer from 1 to ${max}`);
  }
  const D = j.n_embd as number;
  if (!v4 && D % (j.head_size as number) !== 0) bad('head_size', `a divisor of n_embd ${D}`);
  const eps = j.groupnorm_eps;
  if (!(v4 && eps === undefined) && (typeof eps !== 'number' || !(eps > 0 && eps <= 0.1))) bad('groupnorm_eps', 'a number in (0, 0.1]');
  if (j.tokenizer !== undefined && typeof j.tokenizer !== 'string') bad('tokenizer', 'a string');
  if (j.lowrank !== undefined) checkLowRank(j.lowrank, D, file);
  return j as unknown as RwkvConfig;
}

function checkLowRank(l: unknown, D: number, file: string): void {
  const o = (l ?? {}) as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new UserError(`${file}: lowrank ${what}; expected {"factor": f, "rank": r, "kind": "linear" | "relu2"} with 1 <= r <= n_embd`);
  };
  if (typeof l !== 'object' || l === null || Array.isArray(l)) fail(`is ${shown(l)}`);
  if (typeof o.factor !== 'number' || !(o.factor >= 1)) fail(`factor is ${shown(o.factor)}`);
  if (typeof o.rank !== 'number' || !Number.isInteger(o.rank) || o.rank < 1 || o.rank > D) fail(`rank is ${shown(o.rank)}`);
  if (o.kind !== 'linear' && o.kind !== 'relu2') fail(`kind is ${shown(o.kind)}`);
}

/** Directory tensor names and shapes for a config: the normalised ones, with v5's bonus as time_faaaa. */
function fileShapes(c: RwkvConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [name, shape] of expectedShapes(shapeOf(c))) {
    const mix = /\.time_mix_[kvrg]$/.test(name);
    const file = c.version !== '4' ? name.replace(/\.att\.time_first$/, '.att.time_faaaa') : name;
    out.set(file, mix ? [1, 1, shape[0]] : shape);
  }
  return out;
}

/** A model directory's shapes (all but its tensors), from its config.json. */
export function readRwkvDims(dir: string) {
  return shapeOf(readRwkvConfig(dir));
}

function shapeOf(c: RwkvConfig) {
  const heads = c.version === '4' ? 1 : c.n_embd / c.head_size!;
  const dims = {
    version: c.version,
    layers: c.n_layer,
    embd: c.n_embd,
    heads,
    headSize: c.n_embd / heads,
    ffn: c.dim_ffn,
    vocab: c.vocab_size,
  };
  return c.lowrank ? { ...dims, lowrank: { factor: c.lowrank.factor, rank: c.lowrank.rank, kind: c.lowrank.kind } } : dims;
}

/** Loads a model directory into the normalised form, checking the weights' shapes before reading their data. */
export function loadModelDir(dir: string): RwkvWeights {
  const config = readRwkvConfig(dir);
  const file = join(dir, 'model.safetensors');
  if (!existsSync(file)) throw new UserError(`${file}: missing; an RWKV model directory needs config.json and model.safetensors`);
  const header = new Map(readSafetensorsHeader(file).tensors.map((t) => [t.name, t.shape]));
  for (const [name, shape] of fileShapes(config)) {
    const got = header.get(name);
    if (!got)
      throw new UserError(`${file}: tensor ${name} is missing; config.json describes an RWKV ${config.version} model that needs it`);
    if (got.join(',') !== shape.join(','))
      throw new UserError(`${file}: tensor ${name} has shape [${got.join(', ')}]; config.json implies [${shape.join(', ')}]`);
  }
  const tensors = readSafetensors(file);
  for (const name of [...tensors.keys()]) {
    const t = tensors.get(name)!;
    if (name.endsWith('.att.time_decay')) t.data = mapFloats(t.data, (x) => -Math.exp(x));
    if (name.endsWith('.att.time_faaaa')) {
      tensors.set(name.replace(/time_faaaa$/, 'time_first'), t);
      tensors.delete(name);
    }
  }
  return checkWeights({ ...shapeOf(config), groupNormEps: config.groupnorm_eps ?? LAYER_NORM_EPS, tensors }, file);
}

export interface WriteOptions {
  /** Matrices (2-D tensors) as F16; vectors and WKV parameters stay F32. */
  f16?: boolean;
  tokenizer?: string;
}

/**
 * Writes normalised weights as a model directory, undoing the normalisation (raw time_decay, v5's bonus
 * as time_faaaa, mixes as (1, 1, D)), so that loadModelDir reads them back.
 */
export function writeModelDir(dir: string, w: RwkvWeights, opts: WriteOptions = {}): void {
  const config: RwkvConfig = {
    model_type: 'rwkv',
    version: w.version,
    n_layer: w.layers,
    n_embd: w.embd,
    ...(w.version === '4' ? {} : { head_size: w.headSize }),
    dim_ffn: w.ffn,
    vocab_size: w.vocab,
    ...(w.version === '4' ? {} : { groupnorm_eps: w.groupNormEps }),
    ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
    ...(w.lowrank ? { lowrank: w.lowrank } : {}),
  };
  const out: Record<string, Tensor> = {};
  const shapes = fileShapes(config);
  for (const [name, t] of w.tensors) {
    let data = t.data;
    if (name.endsWith('.att.time_decay')) data = mapFloats(data, (x) => Math.log(-x));
    const fileName = w.version !== '4' ? name.replace(/\.att\.time_first$/, '.att.time_faaaa') : name;
    out[fileName] = { shape: shapes.get(fileName) ?? t.shape, data };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const f16 = (name: string) => (opts.f16 && out[name].shape.length === 2 && !name.includes('.time_') ? 'F16' : 'F32');
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(out, f16));
}

/** One prompt of reference-logits.json: its tokens and the reference logits after the last one. */
export interface ReferencePrompt {
  text: string;
  tokens: number[];
  logits: Float32Array;
}

/**
 * Reads reference-logits.json: `{"prompts": [{"text", "tokens": [ids], "logits": …}]}`. `logits` may be
 * one vector of V numbers (after the last token) or a list of such vectors, of which the last is the one
 * after the last token (earlier ones are ignored). Tokens must be integers below V.
 */
export function readReferenceLogits(dir: string, vocab: number): ReferencePrompt[] {
  const file = join(dir, 'reference-logits.json');
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UserError(`${file}: missing; --reference compares with the reference logits the training script writes there`);
  const j = parseJson(readFileSync(file, 'utf8'), file, 'regenerate it') as { prompts?: unknown } | null;
  const prompts = j?.prompts;
  if (!Array.isArray(prompts) || prompts.length === 0) throw new UserError(`${file}: expected {"prompts": [...]} with at least one prompt`);
  return prompts.map((p: Record<string, unknown>, i) => {
    const where = `${file}: prompt ${i}`;
    const tokens = p?.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0 || !tokens.every((t) => Number.isInteger(t) && t >= 0 && t < vocab))
      throw new UserError(`${where}: tokens must be a non-empty list of integers from 0 to ${vocab - 1}`);
    let logits = p.logits;
    if (Array.isArray(logits) && Array.isArray(logits[logits.length - 1])) logits = logits[logits.length - 1];
    if (!Array.isArray(logits) || logits.length !== vocab || !logits.every((x) => typeof x === 'number'))
      throw new UserError(`${where}: logits must be ${vocab} numbers (or a list whose last element is)`);
    return { text: typeof p.text === 'string' ? p.text : '', tokens: tokens as number[], logits: Float32Array.from(logits as number[]) };
  });
}

/** Writes reference-logits.json (one vector per prompt, after its last token). */
export function writeReferenceLogits(dir: string, prompts: ReferencePrompt[]): void {
  const json = { prompts: prompts.map((p) => ({ text: p.text, tokens: p.tokens, logits: [Array.from(p.logits)] })) };
  writeFileSync(join(dir, 'reference-logits.json'), JSON.stringify(json));
}
