/**
 * The on-disk shard store: one file per (layer, slice, bits), each layer's shared parts, the base
 * (embeddings, pooler, classifier) stored once, and a manifest with every file's size and sha256.
 * Every byte is checked against the manifest before it is used, so a damaged store stops a run with a
 * message naming the file instead of producing wrong logits.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { readBertConfig, type BertConfig } from './config.js';
import { checkModelDir } from './model.js';
import { baseTensorSpecs, baseWeightsFrom, loadBertWeights, sliceLayer, type BaseWeights, type LayerWeights } from './weights.js';
import { modelChecksum, sha256 } from '../../core/checksum.js';
import { UserError } from '../../core/errors.js';
import { encodeSafetensors, parseSafetensors } from '../../core/safetensors.js';
import { dequantizeInto, quantize } from '../../shard/codec.js';
import type { Configuration } from './configuration.js';
import { codecOf, decodeShardInto, encodeShard, ShardFormatError, type Codec } from '../../shard/format.js';
import { emptyLayer, gatherSlice, scatterSlice, SHARED_PARTS, sliceCounts } from './layout.js';

export const STORE_FORMAT = 'shardlab-shard-store';
export const STORE_VERSION = 1;
export const DEFAULT_BITS = [2, 3, 4, 5, 6, 32];
export const SUPPORTED_BITS = [2, 3, 4, 5, 6, 32];
const COPIED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'reference-logits.json', 'README.md'];

const ShardEntry = z.object({
  layer: z.number().int().nonnegative(),
  slice: z.number().int().nonnegative(),
  bits: z.number().int(),
  file: z.string(),
  codec: z.enum(['fp32', 'gobo']),
  weights: z.number().int(),
  outliers: z.number().int(),
  /** ||w - ŵ|| and ||w|| of the slice's matrices, for the quality report. */
  errorNorm: z.number(),
  weightNorm: z.number(),
});
export type ShardEntry = z.infer<typeof ShardEntry>;

const Manifest = z.object({
  format: z.literal(STORE_FORMAT),
  version: z.number().int(),
  source: z.object({ checksum: z.string(), path: z.string() }),
  task: z.string().optional(),
  layers: z.number().int().positive(),
  slices: z.number().int().positive(),
  bits: z.array(z.number().int()),
  base: z.string(),
  shared: z.array(z.string()),
  shards: z.array(ShardEntry),
  files: z.record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string() })),
});
export type Manifest = z.infer<typeof Manifest>;

export function shardFileName(layer: number, slice: number, bits: number): string {
  return `layer-${String(layer).padStart(2, '0')}/slice-${String(slice).padStart(2, '0')}.b${bits}.shard`;
}

export function isShardStore(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json'));
}

export function parseBits(list: string): number[] {
  const bits = list.split(',').map((s) => Number(s.trim()));
  for (const b of bits)
    if (!SUPPORTED_BITS.includes(b))
      throw new UserError(`--bits: ${b} is not a supported bitwidth; use a list from ${SUPPORTED_BITS.join(',')}`);
  return [...new Set(bits)].sort((a, b) => a - b);
}

export interface ShardProgress {
  (done: number, total: number): void;
}

/**
 * Cuts a checkpoint into a shard store at `outDir`. Writes into a temporary folder beside it and renames
 * at the end, so an interrupted run leaves nothing half-written and an existing store is never touched.
 */
export function writeStore(modelDir: string, outDir: string, bits: number[], onProgress?: ShardProgress): ShardStore {
  checkModelDir(modelDir);
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0))
    throw new UserError(`${outDir}: already exists and is not empty; choose another --out or remove it`);
  const cfg = readBertConfig(modelDir);
  const weights = loadBertWeights(modelDir, cfg);
  const tmp = join(dirname(outDir), `.${outDir.split('/').pop()}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const files: Manifest['files'] = {};
  const put = (rel: string, data: Buffer) => {
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    writeFileSync(join(tmp, rel), data);
    files[rel] = { bytes: data.length, sha256: sha256(data) };
  };
  try {
    for (const f of COPIED_FILES) if (existsSync(join(modelDir, f))) copyFileSync(join(modelDir, f), join(tmp, f));
    const base = Object.fromEntries(baseTensorSpecs(cfg).map(([key, name, shape]) => [name, { shape, data: weights[key] }]));
    put('base.safetensors', encodeSafetensors(base));
    const shards: ShardEntry[] = [];
    const shared: string[] = [];
    const total = cfg.layers * cfg.slices * bits.length;
    for (let l = 0; l < cfg.layers; l++) {
      const layer = weights.layers[l];
      const rel = `layer-${String(l).padStart(2, '0')}/shared.safetensors`;
      put(rel, encodeSafetensors(Object.fromEntries(SHARED_PARTS.map((p) => [p, { shape: [cfg.hidden], data: layer[p] }]))));
      shared.push(rel);
      for (let s = 0; s < cfg.slices; s++) {
        const { weights: w, biases } = gatherSlice(cfg, layer, s);
        for (const b of bits) {
          const codec: Codec = codecOf(b);
          const q = codec === 'fp32' ? undefined : quantize(w, b);
          const file = shardFileName(l, s, b);
          put(file, encodeShard({ layer: l, slice: s, bits: b, biases, weights: q ?? w }));
          const restored = new Float32Array(w.length);
          if (q) dequantizeInto(q, restored);
          else restored.set(w);
          const outliers = q ? q.outlierPositions.length : 0;
          shards.push({ layer: l, slice: s, bits: b, file, codec, weights: w.length, outliers, ...norms(w, restored) });
          onProgress?.(shards.length, total);
        }
      }
    }
    const manifest: Manifest = {
      format: STORE_FORMAT,
      version: STORE_VERSION,
      source: { checksum: modelChecksum(modelDir), path: modelDir },
      task: cfg.task,
      layers: cfg.layers,
      slices: cfg.slices,
      bits,
      base: 'base.safetensors',
      shared,
      shards,
      files,
    };
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    mkdirSync(dirname(outDir), { recursive: true });
    if (existsSync(outDir)) rmSync(outDir, { recursive: true }); // empty, checked above
    renameSync(tmp, outDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return ShardStore.open(outDir);
}

/** ||w - ŵ|| and ||w||, kept per shard so the quality report can combine them over any set of shards. */
function norms(w: Float32Array, restored: Float32Array): { errorNorm: number; weightNorm: number } {
  let err = 0;
  let norm = 0;
  for (let i = 0; i < w.length; i++) {
    err += (w[i] - restored[i]) ** 2;
    norm += w[i] ** 2;
  }
  return { errorNorm: Math.sqrt(err), weightNorm: Math.sqrt(norm) };
}

/** A shard store opened for reading; all reads are verified against the manifest. */
export class ShardStore {
  private readonly byKey = new Map<string, ShardEntry>();
  /** One slice's values, reused by every decode (decoding is synchronous, one shard at a time). */
  private readonly scratch: { weights: Float32Array; biases: Float32Array };

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly config: BertConfig,
  ) {
    for (const s of manifest.shards) this.byKey.set(`${s.layer}/${s.slice}/${s.bits}`, s);
    const counts = sliceCounts(config);
    this.scratch = { weights: new Float32Array(counts.weights), biases: new Float32Array(counts.biases) };
  }

  static open(dir: string): ShardStore {
    const file = join(dir, 'manifest.json');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`${file}: cannot read the shard manifest (${(e as NodeJS.ErrnoException).code ?? 'not valid JSON'})`);
    }
    const version = (raw as { version?: unknown })?.version;
    if (typeof version === 'number' && version !== STORE_VERSION)
      throw new UserError(
        `${file}: shard store format version ${version}; this shardlab reads version ${STORE_VERSION}; re-shard with shardlab shard`,
      );
    const parsed = Manifest.safeParse(raw);
    if (!parsed.success) throw new UserError(`${file}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
    const config = readBertConfig(dir);
    const m = parsed.data;
    if (m.layers !== config.layers || m.slices !== config.slices)
      throw new UserError(`${file}: manifest shape ${m.layers}x${m.slices} does not match config.json`);
    return new ShardStore(dir, m, config);
  }

  get checksum(): string {
    return this.manifest.source.checksum;
  }

  get bits(): number[] {
    return this.manifest.bits;
  }

  entry(layer: number, slice: number, bits: number): ShardEntry {
    const e = this.byKey.get(`${layer}/${slice}/${bits}`);
    if (!e) throw new UserError(`${join(this.dir, 'manifest.json')}: no shard for layer ${layer} slice ${slice} at ${bits} bits`);
    return e;
  }

  /** Bytes of one stored file, checked for presence, size and sha256 before they are returned. */
  read(rel: string): Buffer {
    let data: Buffer | undefined;
    try {
      data = readFileSync(join(this.dir, rel));
    } catch {
      // reported by verify
    }
    return this.verify(rel, data);
  }

  /** `read` without blocking the event loop, for the executor's IO stage. */
  async readAsync(rel: string): Promise<Buffer> {
    let data: Buffer | undefined;
    try {
      data = await readFile(join(this.dir, rel));
    } catch {
      // reported by verify
    }
    return this.verify(rel, data);
  }

  private verify(rel: string, data: Buffer | undefined): Buffer {
    const path = join(this.dir, rel);
    const want = this.manifest.files[rel];
    if (!want) throw new UserError(`${path}: not listed in the manifest; the store is damaged, re-shard it`);
    if (!data) throw new UserError(`${path}: missing from the shard store; re-shard with shardlab shard`);
    if (data.length !== want.bytes)
      throw new UserError(`${path}: ${data.length} bytes, the manifest says ${want.bytes} (truncated or damaged); re-shard`);
    if (sha256(data) !== want.sha256) throw new UserError(`${path}: checksum mismatch, the file is corrupt; re-shard with shardlab shard`);
    return data;
  }

  /** Size in bytes of a shard file as stored (what the IO stage reads). */
  shardBytes(layer: number, slice: number, bits: number): number {
    return this.manifest.files[this.entry(layer, slice, bits).file].bytes;
  }

  /** ||w − ŵ|| / ||w|| of a shard's matrices at its stored fidelity (0 for fp32). */
  relativeError(layer: number, slice: number, bits: number): number {
    const e = this.entry(layer, slice, bits);
    return e.weightNorm > 0 ? e.errorNorm / e.weightNorm : 0;
  }

  base(): BaseWeights {
    const rel = this.manifest.base;
    return baseWeightsFrom(parseSafetensors(this.read(rel), join(this.dir, rel)), this.config, join(this.dir, rel));
  }

  /** Decodes one verified shard into a layer's buffers at its slice position. */
  decodeInto(layer: number, slice: number, bits: number, data: Buffer, into: LayerWeights): void {
    const e = this.entry(layer, slice, bits);
    const { weights, biases } = this.scratch;
    try {
      decodeShardInto(data, { layer, slice, bits }, weights, biases);
    } catch (err) {
      if (err instanceof ShardFormatError) throw new UserError(`${join(this.dir, e.file)}: ${err.message}`);
      throw err;
    }
    scatterSlice(this.config, into, slice, weights, biases);
  }

  /** A layer's shared parts (output biases, LayerNorms) into its buffers. */
  sharedInto(layer: number, into: LayerWeights): void {
    const rel = this.manifest.shared[layer];
    const tensors = parseSafetensors(this.read(rel), join(this.dir, rel));
    for (const p of SHARED_PARTS) {
      const t = tensors.get(p);
      if (!t || t.data.length !== this.config.hidden)
        throw new UserError(`${join(this.dir, rel)}: tensor "${p}" missing or of the wrong size; re-shard`);
      into[p].set(t.data);
    }
  }

  /** Dequantizes a configuration's shards into layer weights ready to run. */
  configurationWeights(c: Configuration): LayerWeights[] {
    return c.bits.slice(0, c.layers).map((row, l) => this.loadLayer(l, row));
  }

  /** Reads, verifies and dequantizes the shards of one layer: its first `bits.length` slices. */
  loadLayer(layer: number, bits: number[], into: LayerWeights = emptyLayer(this.config)): LayerWeights {
    this.sharedInto(layer, into);
    bits.forEach((b, s) => this.decodeInto(layer, s, b, this.read(this.entry(layer, s, b).file), into));
    return sliceLayer(this.config, into, bits.length);
  }
}
