/**
 * An RWKV model run token by token (RNN mode) on onnxruntime-node: one session of the step graph, the
 * state fed back as the tensor the previous run returned (no copies between steps).
 */
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { UserError } from '../../core/errors.js';
import type { Tensor } from '../../core/safetensors.js';
import { hierarchicalLogits, type ClusterHead } from './cluster-head.js';
import type { SparseFfn } from './sparse-ffn.js';
import { initialState, stepGraph, type StateLayout, type WeightsAs } from './step-graph.js';
import { loadRwkv } from './load.js';
import { LAYER_NORM_EPS, type RwkvWeights } from './weights.js';

export interface RunnerOptions {
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /**
   * Matrices as graph initializers (default) or as inputs. bench/rwkv.ts on the fixture's shape (5.2, 6
   * layers, D 256, vocab 8192, random weights), 2 threads without spinning, 256 greedy tokens, four runs on
   * a 2-core machine busy with a training job (load 5–7, noisy): initializers 208–349 tokens/s, inputs
   * 157–250 tokens/s, initializers faster in every run; onnxruntime prepacks constant matrices, which it
   * cannot do for inputs.
   */
  weightsAs?: WeightsAs;
  /**
   * Let idle intra-op threads spin for work (onnxruntime's default); off unless asked. A step is ~340 small
   * ops, and on a busy 2-core machine spinning threads steal the cores the step needs: bench/rwkv.ts
   * measured 2 threads at 110–127 tokens/s spinning against 208–349 not (same runs as above).
   */
  spin?: boolean;
  /** Mask channel-mix to a predictor's neurons (sparse-ffn.ts); lastFfnStats then holds its counts. */
  sparseFfn?: SparseFfn;
  /** The trained MLP predictors sparseFfn.mlp needs (sparse-ffn.ts loadMlpPredictors). */
  predictors?: Map<string, Tensor>;
  /** A hierarchical head (cluster-head.ts): logits become its full-vocabulary output; lastHeadStats counts. */
  clusterHead?: { head: ClusterHead; mass: number };
  /** Every matrix but the embedding as INT8, dequantized at compute (step-graph.ts). */
  int8?: boolean;
}

/** Time spent in steps so far: the step graph's session.run, and the whole of step() around it. */
export interface StepTimes {
  steps: number;
  runMs: number;
  totalMs: number;
}

/** The embedding table with ln0 applied to every row (computed in float64, stored as float32). */
function normalisedEmbeddings(w: RwkvWeights): Float32Array {
  const D = w.embd;
  const emb = w.tensors.get('emb.weight')!.data;
  const g = w.tensors.get('blocks.0.ln0.weight')!.data;
  const b = w.tensors.get('blocks.0.ln0.bias')!.data;
  const out = new Float32Array(emb.length);
  for (let row = 0; row < w.vocab; row++) {
    const at = row * D;
    let mean = 0;
    for (let i = 0; i < D; i++) mean += emb[at + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (emb[at + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / D + LAYER_NORM_EPS);
    for (let i = 0; i < D; i++) out[at + i] = (emb[at + i] - mean) * inv * g[i] + b[i];
  }
  return out;
}

const BUSY = 'RwkvRunner: a step called while a step is running: await each step before the next';

export type RwkvModelInfo = Omit<RwkvWeights, 'tensors'>;

export class RwkvRunner {
  private state: ort.Tensor;
  private readonly fresh: ort.Tensor;
  /** One lane's initial state, for stepLanes. */
  private readonly initial: Float32Array;
  /** Per lane, of the last stepLanes with a hierarchical head: [clusters computed, head rows read] (batch, 2). */
  lastHeadStats?: Float32Array;
  /** Per lane, per layer, of the last stepLanes with a predictor: [truly active, predicted, both] (batch, 3L). */
  lastFfnStats?: Float32Array;
  /** Of the last step() with a predictor: each layer's predicted neurons (L × F, 0/1). */
  lastFfnMask?: Uint8Array;
  /** Of the last step() with a hierarchical head: the clusters it read, most probable first. */
  lastHeadChosen?: number[];
  /** The lanes' states after the last stepLanes (batch, state size). */
  private lanes?: ort.Tensor;
  private busy = false;
  readonly times: StepTimes = { steps: 0, runMs: 0, totalMs: 0 };

  private constructor(
    /** The model's version and sizes (its tensors are not kept: the session holds its own copy). */
    readonly model: RwkvModelInfo,
    readonly layout: StateLayout,
    private readonly session: ort.InferenceSession,
    private readonly feeds: Record<string, ort.Tensor>,
    private readonly embeddings: Float32Array,
    private readonly clusterHead?: { head: ClusterHead; mass: number },
  ) {
    this.initial = initialState(layout, model.layers);
    this.fresh = new ort.Tensor('float32', this.initial, [1, this.initial.length]);
    this.state = this.fresh;
  }

  static async open(weights: RwkvWeights, opts: RunnerOptions = {}): Promise<RwkvRunner> {
    const graph = stepGraph(weights, {
      weightsAs: opts.weightsAs,
      sparseFfn: opts.sparseFfn,
      predictors: opts.predictors,
      headL1: opts.clusterHead?.head.l1,
      int8: opts.int8,
    });
    const session = await ort.InferenceSession.create(graph.bytes, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      extra: { session: { intra_op: { allow_spinning: opts.spin ? '1' : '0' } } },
    });
    const feeds: Record<string, ort.Tensor> = {};
    for (const i of graph.inputs)
      feeds[i.name] = i.data instanceof Uint8Array ? new ort.Tensor('uint8', i.data, i.dims) : new ort.Tensor('float32', i.data, i.dims);
    const { version, layers, embd, heads, headSize, ffn, vocab, groupNormEps, lowrank } = weights;
    const model = { version, layers, embd, heads, headSize, ffn, vocab, groupNormEps, ...(lowrank && { lowrank }) };
    return new RwkvRunner(model, graph.layout, session, feeds, normalisedEmbeddings(weights), opts.clusterHead);
  }

  /** Loads an rwkv.cpp `.bin` file or a model directory and opens it. */
  static async load(path: string, opts: RunnerOptions = {}): Promise<RwkvRunner> {
    return RwkvRunner.open(loadRwkv(path), opts);
  }

  /** Back to the initial state (no copy: state tensors are never written in place). */
  reset(): void {
    this.state = this.fresh;
  }

  /** Feeds one token; resolves to the logits after it (a new array each step). One step at a time. */
  async step(token: number): Promise<Float32Array> {
    const t0 = performance.now();
    // Checked before the shared feeds are overwritten below.
    if (this.busy) throw new Error(BUSY);
    this.feeds.x = new ort.Tensor('float32', this.embeddingRow(token), [1, this.model.embd]);
    this.feeds.state = this.state;
    const t1 = performance.now();
    const out = await this.run(this.feeds);
    const t2 = performance.now();
    this.state = out.state_out as ort.Tensor;
    this.times.steps++;
    this.times.runMs += t2 - t1;
    this.times.totalMs += t2 - t0;
    return this.headLogits([out.logits.data as Float32Array], out.cluster_logits?.data as Float32Array | undefined)[0]!;
  }

  /**
   * Feeds tokens[i] to lane i, each lane an independent sequence continuing from its own state (from the
   * initial state where fresh[i]); resolves to each lane's logits. One batched run of the step graph: how
   * many sequences are scored at once (lm-eval) without paying a run per token of each. Lanes keep their
   * state between calls while the lane count stays the same.
   */
  async stepLanes(tokens: readonly number[], fresh: readonly boolean[]): Promise<Float32Array[]> {
    // Checked before the lanes' state is touched in place below.
    if (this.busy) throw new Error(BUSY);
    const { vocab: V, embd: D } = this.model;
    const B = tokens.length;
    const S = this.initial.length;
    const x = new Float32Array(B * D);
    tokens.forEach((t, i) => x.set(this.embeddingRow(t), i * D));
    const keep = this.lanes?.dims[0] === B;
    const state = keep ? this.lanes! : new ort.Tensor('float32', new Float32Array(B * S), [B, S]);
    // The state returned by the last run is ours alone, so lanes restart in place.
    const data = state.data as Float32Array;
    for (let i = 0; i < B; i++) if (fresh[i] || !keep) data.set(this.initial, i * S);
    const out = await this.run({ ...this.feeds, x: new ort.Tensor('float32', x, [B, D]), state });
    this.lanes = out.state_out as ort.Tensor;
    const logits = out.logits.data as Float32Array;
    return this.headLogits(
      tokens.map((_, i) => logits.subarray(i * V, (i + 1) * V)),
      out.cluster_logits?.data as Float32Array | undefined,
    );
  }

  /** The token's embedding row (ln0 applied); a token outside the vocabulary is a user error. */
  private embeddingRow(token: number): Float32Array {
    const { vocab: V, embd: D } = this.model;
    if (!Number.isInteger(token) || token < 0 || token >= V) throw new UserError(`token ${token} is not from 0 to ${V - 1}`);
    return this.embeddings.subarray(token * D, (token + 1) * D);
  }

  /** One run of the step graph, refused while another is in flight (the state would fork); keeps its FFN counts. */
  private async run(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
    if (this.busy) throw new Error(BUSY);
    this.busy = true;
    try {
      const out = await this.session.run(feeds);
      this.lastFfnStats = out.ffn_stats?.data as Float32Array | undefined;
      this.lastFfnMask = out.ffn_mask?.data as Uint8Array | undefined;
      return out;
    } finally {
      this.busy = false;
    }
  }

  /** With a hierarchical head, each lane's logits as it gives them, its counts in lastHeadStats. */
  private headLogits(lanes: Float32Array[], clusterLogits?: Float32Array): Float32Array[] {
    const ch = this.clusterHead;
    if (!ch || !clusterLogits) return lanes;
    const K = ch.head.members.length;
    const stats = new Float32Array(2 * lanes.length);
    const out = lanes.map((full, i) => {
      const r = hierarchicalLogits(full, clusterLogits.subarray(i * K, (i + 1) * K), ch.head, ch.mass);
      stats[2 * i] = r.clusters;
      stats[2 * i + 1] = r.rows;
      if (lanes.length === 1) this.lastHeadChosen = r.chosen;
      return r.logits;
    });
    this.lastHeadStats = stats;
    return out;
  }

  /** Logits after feeding `tokens` one at a time from the initial state. */
  async logitsAfter(tokens: readonly number[]): Promise<Float32Array> {
    this.reset();
    let logits: Float32Array = new Float32Array(0);
    for (const t of tokens) logits = await this.step(t);
    return logits;
  }

  /** A copy of the current state. */
  stateSnapshot(): Float32Array {
    return (this.state.data as Float32Array).slice();
  }

  /** Continues from a snapshot (copied, so the caller may reuse its array). */
  restore(snapshot: Float32Array): void {
    const n = this.layout.perLayer * this.model.layers;
    if (snapshot.length !== n) throw new Error(`state snapshot of ${snapshot.length} floats; this model's state has ${n}`);
    this.state = new ort.Tensor('float32', snapshot.slice(), [1, n]);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
