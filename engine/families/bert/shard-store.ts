/**
 * The on-disk shard store: one file per (layer, slice, bits), each layer's shared parts, the base
 * (embeddings, pooler, classifier) stored once, and a manifest with every file's size and sha256.
 * Every byte is checked against the manifest before it is used, so a damaged store stops a run with a
 * message naming the file instead of producing wrong logits.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { threadId } from 'node:worker_threads';
import { z } from 'zod';
import { readBertConfig, type BertConfig } from './config.js';
import { checkModelDir } from './model.js';
import { baseTensorSpecs, baseWeightsFrom, loadBertWeights, sliceLayer, type BaseWeights, type LayerWeights } from './weights.js';
import { modelChecksum, sha256 } from '../../core/checksum.js';
import { UserError } from '../../core/errors.js';
import { encodeSafetensors, parseSafetensors } from '../../core/safetensors.js';
import { dequantizeInto, quantizer } from '../../shard/codec.js';
import type { Configuration } from './configuration.js';
import { codecOf, decodeShardInto, encodeShard, ShardFormatError, type Codec } from '../../shard/format.js';
import { emptyLayer, gatherSlice, scatterSlice, SHARED_PARTS, sliceCounts } from './layout.js';

export const STORE_FORMAT = 'shardlab-shard-store';
export const STORE_VERSION = 2;
export const DEFAULT_BITS = [2, 3, 4, 5, 6, 32];
export const SUPPORTED_BITS = [2, 3, 4, 5, 6, 32];
/** The checkpoint's own files a store keeps beside its shards, checksummed like them and verified on open. */
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
  /** The checkpoint's files kept in the store (config, tokenizer, reference logits, card). */
  metadata: z.array(z.string()),
  shared: z.array(z.string()),
  shards: z.array(ShardEntry),
  files: z.record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string() })),
  /** sha256 of the manifest's own JSON without this field: the manifest is checked like every file it lists. */
  /** Tensors of the checkpoint that are not weights (integer buffers such as position_ids), not stored. */
  ignored: z.array(z.object({ name: z.string(), dtype: z.string(), shape: z.array(z.number().int().nonnegative()) })).optional(),
  digest: z.string().optional(),
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
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0)) throw new StoreExists(outDir);
  const cfg = readBertConfig(modelDir);
  const weights = loadBertWeights(modelDir, cfg);
  // One temporary folder per writer (worker threads share a pid), renamed into place when complete.
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp, { recursive: true });
  const files: Manifest['files'] = {};
  const put = (rel: string, data: Buffer) => {
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    writeFileSync(join(tmp, rel), data);
    files[rel] = { bytes: data.length, sha256: sha256(data) };
  };
  try {
    // A checkpoint without tokenizer.json has its tokenizer built from vocab.txt: the store keeps that instead.
    const copied = existsSync(join(modelDir, 'tokenizer.json')) ? COPIED_FILES : [...COPIED_FILES, 'vocab.txt'];
    const metadata = copied.filter((f) => existsSync(join(modelDir, f)));
    for (const f of metadata) put(f, readFileSync(join(modelDir, f)));
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
        const quantizeAt = quantizer(w);
        for (const b of bits) {
          const codec: Codec = codecOf(b);
          const q = codec === 'fp32' ? undefined : quantizeAt(b);
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
      metadata,
      shared,
      shards,
      files,
      ...(weights.ignored?.length ? { ignored: weights.ignored } : {}),
    };
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ ...manifest, digest: manifestDigest(manifest) }, null, 1));
    mkdirSync(dirname(outDir), { recursive: true });
    try {
      renameSync(tmp, outDir); // atomic; replaces an empty folder, never a store another writer finished first
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new StoreExists(outDir);
      throw e;
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return ShardStore.open(outDir);
}

/** A store (or other files) is at `dir` already: maybe another writer of a shared cache finished it first. */
export class StoreExists extends UserError {
  constructor(readonly dir: string) {
    super(`${dir}: already exists and is not empty; choose another --out or remove it`);
  }
}

/** Temporary folders of writers that are gone (killed mid-write) in `parent`: removed. */
export function removeStaleTemps(parent: string): string[] {
  if (!existsSync(parent)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const m = /^\..+\.(?:tmp|discarded)-(\d+)-/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Moves a damaged store out of the way in one step (readers never see half of it), then deletes it. */
export function discardStore(dir: string): void {
  const aside = join(dirname(dir), `.${basename(dir)}.discarded-${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(dir, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // another writer moved it already
    throw e;
  }
  rmSync(aside, { recursive: true, force: true });
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
    /** A store the cache made from a checkpoint: when a file of it is found damaged, it is discarded to be made again. */
    readonly cached: boolean,
  ) {
    for (const s of manifest.shards) this.byKey.set(`${s.layer}/${s.slice}/${s.bits}`, s);
    const counts = sliceCounts(config);
    this.scratch = { weights: new Float32Array(counts.weights), biases: new Float32Array(counts.biases) };
  }

  static open(dir: string, opts: { cached?: boolean } = {}): ShardStore {
    const file = join(dir, 'manifest.json');
    const m = readManifest(dir);
    // The files read outside the shard path (config, tokenizer, reference) are checked before anything uses them.
    const tokenizer = m.metadata.includes('vocab.txt') && !m.metadata.includes('tokenizer.json') ? 'vocab.txt' : 'tokenizer.json';
    for (const rel of new Set(['config.json', tokenizer, ...m.metadata]))
      verifyFile(dir, m, rel, existsSync(join(dir, rel)) ? readFileSync(join(dir, rel)) : undefined);
    const config = readBertConfig(dir);
    if (m.layers !== config.layers || m.slices !== config.slices)
      throw new UserError(`${file}: manifest shape ${m.layers}x${m.slices} does not match config.json`);
    return new ShardStore(dir, m, config, !!opts.cached);
  }

  get checksum(): string {
    return this.manifest.source.checksum;
  }

  /** Tensors of the source checkpoint that are not weights, which were not read (see loadBertWeights). */
  get ignored(): { name: string; dtype: string; shape: number[] }[] {
    return this.manifest.ignored ?? [];
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
    try {
      return verifyFile(this.dir, this.manifest, rel, data);
    } catch (e) {
      if (!this.cached || !(e instanceof UserError)) throw e;
      discardStore(this.dir);
      throw new UserError(`${e.message.replace(/; re-shard.*$/, '')}; the cached store was discarded and is made again on the next run`);
    }
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

/** Checks one file's bytes against the manifest; returns them, or throws a one-line UserError naming the file. */
function verifyFile(dir: string, manifest: Manifest, rel: string, data: Buffer | undefined): Buffer {
  const path = join(dir, rel);
  const want = manifest.files[rel];
  if (!want) throw new UserError(`${path}: not listed in the manifest; the store is damaged, re-shard it`);
  if (!data) throw new UserError(`${path}: missing from the shard store; re-shard with shardlab shard`);
  if (data.length !== want.bytes)
    throw new UserError(`${path}: ${data.length} bytes, the manifest says ${want.bytes} (truncated or damaged); re-shard`);
  if (sha256(data) !== want.sha256) throw new UserError(`${path}: checksum mismatch, the file is corrupt; re-shard with shardlab shard`);
  return data;
}

/** A store's manifest, parsed and checked against this shardlab's format (one-line UserError otherwise). */
function readManifest(dir: string): Manifest {
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
  const m = parsed.data;
  if (m.digest !== manifestDigest(m))
    throw new UserError(`${file}: checksum mismatch, the manifest is corrupt; re-shard with shardlab shard`);
  const unlisted = [m.base, ...m.shared, ...m.metadata, ...m.shards.map((x) => x.file)].find((f) => !m.files[f]);
  if (unlisted) throw new UserError(`${file}: ${unlisted} is not listed in files; the store is damaged, re-shard it`);
  const outside = Object.keys(m.files).find((f) => isAbsolute(f) || normalize(f).split(sep)[0] === '..');
  if (outside) throw new UserError(`${file}: ${outside} lies outside the store; the manifest is damaged, re-shard it`);
  if (m.shared.length !== m.layers) throw new UserError(`${file}: ${m.shared.length} shared files for ${m.layers} layers; re-shard it`);
  return m;
}

/** sha256 of a manifest's JSON without its digest (in the order it was written, which parsing keeps). */
export function manifestDigest(m: Manifest): string {
  return sha256(Buffer.from(JSON.stringify({ ...m, digest: undefined })));
}

/** Every file a store's manifest lists, checked (presence, size, sha256) without opening the store: one line per problem. */
export function verifyStoreFiles(
  dir: string,
  onProgress?: (done: number, total: number) => void,
): { checksum?: string; files: number; problems: string[] } {
  let m: Manifest;
  try {
    m = readManifest(dir);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { files: 0, problems: [e.message] };
  }
  const names = Object.keys(m.files);
  const problems: string[] = [];
  names.forEach((rel, i) => {
    try {
      verifyFile(dir, m, rel, existsSync(join(dir, rel)) ? readFileSync(join(dir, rel)) : undefined);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push(e.message);
    }
    onProgress?.(i + 1, names.length);
  });
  return { checksum: m.source.checksum, files: names.length, problems };
}
