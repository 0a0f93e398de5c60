import { existsSync, statSync } from 'node:fs';
import { hostThreads } from '../../core/threads.js';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { splitRows, type Batch } from './batch.js';
import { UserError } from '../../core/errors.js';
import { refuseForeignWeights, STAND_INS } from '../../core/checkpoint-files.js';
import { TextEncoder } from './tokenizer.js';
import { readBertConfig, type BertConfig } from './config.js';
import { embeddingGraph, headGraph, layerGraph, stackedGraph, stackedInput, tailGraph } from './graphs.js';
import { FFN_PARTS, HEAD_PARTS, headInput, REFERENCE_WO, referenceLayerGraph, shardTailGraph, type HeadPart } from './shard-graphs.js';
import {
  LAYER_PARTS,
  loadBertWeights,
  sliceLayer,
  type BaseWeights,
  type BertWeights,
  type IgnoredTensor,
  type LayerPart,
  type LayerWeights,
} from './weights.js';

export interface SessionOptions {
  /** onnxruntime intra-op threads; defaults to the host's cores. */
  threads?: number;
  /**
   * Let idle intra-op threads spin for more work (onnxruntime's default). Off for sessions that run once
   * per batch between runs of another session, so their spinning threads do not steal its cores.
   */
  spin?: boolean;
}

/** The reference's run of one layer on a batch, kept for the shards of that layer (see shard-graphs.ts). */
export interface ReferenceLayer {
  /** The layer's input, [batch, seq, hidden]. */
  input: ort.Tensor;
  /** Its output: [batch, seq, hidden], or [batch, 1, hidden] for the CLS row only. */
  out: ort.Tensor;
  /** The attention output projection with its bias, before the residual: [rows, hidden]. */
  attn: ort.Tensor;
  /** Every head's attention context, before the output projection: [rows, hidden]. */
  ctx: ort.Tensor;
}

/** A layer that is the reference's but for one slice, as a shard's layer graph takes it. */
export interface ShardLayer {
  slice: number;
  /** The slice's head: its rows of each head part, in the shard's weights. */
  head: Record<HeadPart, Float32Array>;
  /** The reference's output-projection rows of that head (the term to take out). */
  referenceWo: Float32Array;
  /** The whole layer with the slice in place (its FFN and shared parts are read). */
  layer: LayerWeights;
}

/**
 * Tokens (batch × positions) per intra-op thread in one run of the stacked graph. Its weights are inputs,
 * so onnxruntime cannot prepack them, and MLAS's Gemm on an unpacked weight adds into its output 128
 * columns and 128 of K at a time: with thousands of rows a column panel (rows × 512 bytes) falls out of a
 * core's L2 between K steps: at batch 32 (4,096 rows on bert-spam, one thread) the engine's Gemms took
 * 17 % longer than the monolithic graph's prepacked ones. 768 rows (a 384 KB panel) stay in a 512 KB L2;
 * measured with `npm run bench -- --profile` (one thread; two threads were not measured on an idle machine).
 */
export const ROWS_PER_THREAD = 768;

/** The most tokens one stacked run takes with `threads` intra-op threads (MLAS gives each thread a share of a tall product's rows). */
export function rowsPerRun(threads: number): number {
  return ROWS_PER_THREAD * threads;
}

export function sessionOptions(opts: SessionOptions = {}): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: opts.threads ?? hostThreads(),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: opts.spin === false ? '0' : '1' } } },
  };
}

const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

export function checkModelDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: no such directory; --model takes a model directory`);
  refuseForeignWeights(dir);
  const present = (f: string) => [f, ...(STAND_INS[f] ?? [])].find((g) => existsSync(join(dir, g)));
  const missing = MODEL_FILES.filter((f) => present(f) === undefined);
  if (missing.length === MODEL_FILES.length) throw new UserError(`${dir}: not a model directory (no ${MODEL_FILES.join(', ')})`);
  if (missing.length > 0) throw new UserError(`${join(dir, missing[0])}: missing; a model directory needs ${MODEL_FILES.join(', ')}`);
  const notFile = MODEL_FILES.map((f) => present(f)!).find((f) => !statSync(join(dir, f)).isFile());
  if (notFile) throw new UserError(`${join(dir, notFile)}: not a file; a model directory needs ${MODEL_FILES.join(', ')} as files`);
}

/**
 * A BERT classifier on onnxruntime-node, run as embeddings -> n layers -> head. The layer graph takes its
 * weights as inputs, so one session runs any layer with any number of slices; nothing is rebuilt per
 * request. Weights for a layer can come from the checkpoint or from elsewhere (the shard store).
 */
export class BertModel {
  /** Whole-request sessions by number of layers, built on first use (see stackedGraph). */
  private readonly stacks = new Map<number, Promise<ort.InferenceSession>>();
  /** The last-layer session that computes only the row the head reads (see layerGraph), built on first use. */
  private clsLayer?: Promise<ort.InferenceSession>;
  /** Tail sessions (last n layers and the head, see tailGraph) by n, built on first use. */
  private readonly tails = new Map<number, Promise<ort.InferenceSession>>();
  /** Sessions for profiling shards (reference layers, shard tails) by name, built on first use. */
  private readonly probes = new Map<string, Promise<ort.InferenceSession>>();
  /** The embedding session for sentence pairs (with token_type_ids), built on first use. */
  private pairEmbed?: Promise<ort.InferenceSession>;

  private constructor(
    readonly dir: string,
    readonly config: BertConfig,
    /** The checkpoint's weights; absent when layers come only from a shard store. */
    readonly weights: BertWeights | undefined,
    readonly tokenizer: TextEncoder,
    private readonly base: BaseWeights,
    private readonly options: SessionOptions,
    private readonly embed: ort.InferenceSession,
    private readonly layer: ort.InferenceSession,
    private readonly head: ort.InferenceSession,
  ) {}

  /** Loads a checkpoint directory (config.json, model.safetensors, tokenizer.json). */
  static async load(dir: string, opts: SessionOptions = {}): Promise<BertModel> {
    checkModelDir(dir);
    const config = readBertConfig(dir);
    return BertModel.create(dir, config, loadBertWeights(dir, config), opts);
  }

  /** Builds the sessions around base weights; layer weights are supplied per request (or by `weights`). */
  static async create(dir: string, config: BertConfig, base: BaseWeights | BertWeights, opts: SessionOptions = {}): Promise<BertModel> {
    const tokenizer = TextEncoder.fromDir(dir, config.maxPositions, config.vocabSize);
    const quiet = sessionOptions({ ...opts, spin: false });
    const [embed, layer, head] = await Promise.all([
      ort.InferenceSession.create(embeddingGraph(config, base), quiet),
      ort.InferenceSession.create(layerGraph(config), sessionOptions(opts)),
      ort.InferenceSession.create(headGraph(config, base), quiet),
    ]);
    const weights = 'layers' in base ? base : undefined;
    return new BertModel(dir, config, weights, tokenizer, base, opts, embed, layer, head);
  }

  /** Tensors of the checkpoint that are not weights (integer buffers such as position_ids), not read. */
  get ignored(): IgnoredTensor[] {
    return this.weights?.ignored ?? [];
  }

  /** Checks a submodel request against the model's shape. */
  checkShape(layers: number, slices: number): void {
    const c = this.config;
    if (!Number.isInteger(layers) || layers < 1 || layers > c.layers)
      throw new UserError(`--layers must be an integer from 1 to ${c.layers}, got ${layers}`);
    if (!Number.isInteger(slices) || slices < 1 || slices > c.slices)
      throw new UserError(`--slices must be an integer from 1 to ${c.slices}, got ${slices}`);
  }

  /** The checkpoint's first n layers with their first m slices (views, no copies). */
  submodel(layers: number, slices: number): LayerWeights[] {
    this.checkShape(layers, slices);
    if (!this.weights) throw new Error('this model has no checkpoint weights; pass layer weights from the shard store');
    return this.weights.layers.slice(0, layers).map((w) => sliceLayer(this.config, w, slices));
  }

  async embedBatch(batch: Batch): Promise<{ hidden: ort.Tensor; maskBias: ort.Tensor }> {
    const dims = [batch.size, batch.length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.ids, dims),
      attention_mask: new ort.Tensor('float32', batch.mask, dims),
    };
    if (batch.types) {
      feeds.token_type_ids = new ort.Tensor('int64', batch.types, dims);
      this.pairEmbed ??= ort.InferenceSession.create(
        embeddingGraph(this.config, this.base, true),
        sessionOptions({ ...this.options, spin: false }),
      );
    }
    const out = await (batch.types ? await this.pairEmbed! : this.embed).run(feeds);
    return { hidden: out.hidden, maskBias: out.mask_bias };
  }

  /** Adds one layer's (already sliced) weights to a feed, named by `name(part)`. */
  private feedLayer(feeds: Record<string, ort.Tensor>, w: LayerWeights, name: (part: LayerPart) => string): void {
    const H = this.config.hidden;
    for (const { part, unit, rowLength } of LAYER_PARTS) {
      const data = w[part];
      feeds[name(part)] = new ort.Tensor(
        'float32',
        data,
        unit !== 'shared' && rowLength === 'hidden' ? [data.length / H, H] : [data.length],
      );
    }
  }

  /**
   * Runs one encoder layer with the given (already sliced) weights. `clsOnly` for the last layer before the
   * head: only position 0 is computed and returned ([batch, 1, hidden]), which is all the head reads.
   */
  async runLayer(hidden: ort.Tensor, maskBias: ort.Tensor, w: LayerWeights, clsOnly = false): Promise<ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = { hidden, mask_bias: maskBias };
    this.feedLayer(feeds, w, (part) => part);
    if (!clsOnly) return (await this.layer.run(feeds)).out;
    this.clsLayer ??= ort.InferenceSession.create(layerGraph(this.config, true), sessionOptions(this.options));
    return (await (await this.clsLayer).run(feeds)).out;
  }

  async runHead(hidden: ort.Tensor): Promise<Float32Array> {
    return (await this.head.run({ hidden })).logits.data as Float32Array;
  }

  /** Logits [batch × labels] of the checkpoint's first `layers` layers with the first `slices` slices of each. */
  async logits(batch: Batch, layers = this.config.layers, slices = this.config.slices): Promise<Float32Array> {
    return this.logitsWith(batch, this.submodel(layers, slices));
  }

  /**
   * Logits [batch × labels] running the given layers (each already cut to its slices) in order: one session
   * run per part of at most rowsPerRun(threads) tokens (see ROWS_PER_THREAD).
   */
  async logitsWith(batch: Batch, layers: LayerWeights[]): Promise<Float32Array> {
    const n = layers.length;
    // Sentence pairs run a graph with a token_type_ids input, cached under -n.
    const key = batch.types ? -n : n;
    if (!this.stacks.has(key))
      this.stacks.set(
        key,
        ort.InferenceSession.create(stackedGraph(this.config, this.base, n, !!batch.types), sessionOptions(this.options)),
      );
    const session = await this.stacks.get(key)!;
    const parts = splitRows(batch, rowsPerRun(this.options.threads ?? hostThreads()));
    if (parts.length === 1) return (await session.run(this.stackedFeeds(batch, layers))).logits.data as Float32Array;
    const labels = this.config.labels.length;
    const out = new Float32Array(batch.size * labels);
    let row = 0;
    for (const part of parts) {
      out.set((await session.run(this.stackedFeeds(part, layers))).logits.data as Float32Array, row * labels);
      row += part.size;
    }
    return out;
  }

  /** The stacked graph's inputs for a batch and its layers' weights (see stackedGraph); wraps the arrays, copies nothing. */
  stackedFeeds(batch: Batch, layers: LayerWeights[]): Record<string, ort.Tensor> {
    const dims = [batch.size, batch.length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.ids, dims),
      attention_mask: new ort.Tensor('float32', batch.mask, dims),
    };
    if (batch.types) feeds.token_type_ids = new ort.Tensor('int64', batch.types, dims);
    layers.forEach((w, l) => this.feedLayer(feeds, w, (part) => stackedInput(l, part)));
    return feeds;
  }

  /** Logits [batch × labels] of the given last layers and the head run on a hidden state, in one session run (see tailGraph). */
  async logitsFrom(hidden: ort.Tensor, maskBias: ort.Tensor, layers: LayerWeights[]): Promise<Float32Array> {
    const n = layers.length;
    if (!this.tails.has(n))
      this.tails.set(n, ort.InferenceSession.create(tailGraph(this.config, this.base, n), sessionOptions(this.options)));
    const feeds: Record<string, ort.Tensor> = { hidden, mask_bias: maskBias };
    layers.forEach((w, l) => this.feedLayer(feeds, w, (part) => stackedInput(l, part)));
    return (await (await this.tails.get(n)!).run(feeds)).logits.data as Float32Array;
  }

  /**
   * A profiling session, built on first use. Profiling alternates between several of these (reference
   * layers, then a shard tail per layer), each with its own thread pool, so none lets idle threads spin:
   * a pool spinning after its run would take cores from the next session's (measured with
   * bench/importance-breakdown.ts: about a fifth of a profile's time on 2 shared cores).
   */
  private probe(name: string, graph: () => Uint8Array): Promise<ort.InferenceSession> {
    if (!this.probes.has(name))
      this.probes.set(name, ort.InferenceSession.create(graph(), sessionOptions({ ...this.options, spin: false })));
    return this.probes.get(name)!;
  }

  /** One reference layer on a batch, keeping what a shard of it reuses (see referenceLayerGraph). */
  async runReferenceLayer(hidden: ort.Tensor, maskBias: ort.Tensor, w: LayerWeights, clsOnly = false): Promise<ReferenceLayer> {
    const feeds: Record<string, ort.Tensor> = { hidden, mask_bias: maskBias };
    this.feedLayer(feeds, w, (part) => part);
    const session = await this.probe(`reference${clsOnly ? '_cls' : ''}`, () => referenceLayerGraph(this.config, clsOnly));
    const { out, attn, ctx } = await session.run(feeds);
    return { input: hidden, out, attn, ctx };
  }

  /**
   * Logits [batch × labels] of the reference with one shard changed: its layer from the reference's run of
   * that layer (attention for the shard's head alone), then the reference's later layers `after` and the
   * head, in one session run (see shardTailGraph).
   */
  async shardLogits(ref: ReferenceLayer, maskBias: ort.Tensor, shard: ShardLayer, after: LayerWeights[]): Promise<Float32Array> {
    const { hidden: H, headDim: d } = this.config;
    const n = after.length + 1;
    const session = await this.probe(`shard_tail_${n}`, () => shardTailGraph(this.config, this.base, n));
    const rows = (data: Float32Array) => new ort.Tensor('float32', data, data.length === d ? [d] : [d, H]);
    const feeds: Record<string, ort.Tensor> = {
      hidden: ref.input,
      mask_bias: maskBias,
      attn_ref: ref.attn,
      ctx_ref: ref.ctx,
      head_start: new ort.Tensor('int64', BigInt64Array.of(BigInt(shard.slice * d)), [1]),
      head_end: new ort.Tensor('int64', BigInt64Array.of(BigInt((shard.slice + 1) * d)), [1]),
      [REFERENCE_WO]: rows(shard.referenceWo),
    };
    for (const part of HEAD_PARTS) feeds[headInput(part)] = rows(shard.head[part]);
    const ffn: Record<string, ort.Tensor> = {};
    this.feedLayer(ffn, shard.layer, (part) => stackedInput(0, part));
    for (const part of FFN_PARTS) feeds[stackedInput(0, part)] = ffn[stackedInput(0, part)];
    after.forEach((w, l) => this.feedLayer(feeds, w, (part) => stackedInput(l + 1, part)));
    return (await session.run(feeds)).logits.data as Float32Array;
  }

  /** Logits computed layer by layer through the per-layer session, as the executor runs them. */
  async logitsLayerByLayer(batch: Batch, layers: LayerWeights[]): Promise<Float32Array> {
    const { hidden, maskBias } = await this.embedBatch(batch);
    let x = hidden;
    for (const w of layers) x = await this.runLayer(x, maskBias, w);
    return this.runHead(x);
  }

  async release(): Promise<void> {
    const stacks = await Promise.all([
      ...this.stacks.values(),
      ...this.tails.values(),
      ...this.probes.values(),
      ...(this.clsLayer ? [this.clsLayer] : []),
      ...(this.pairEmbed ? [this.pairEmbed] : []),
    ]);
    await Promise.all([this.embed.release(), this.layer.release(), this.head.release(), ...stacks.map((s) => s.release())]);
  }
}
