/**
 * One token of RWKV-edge on a modeled SoC, as tasks on the IO and CPU lanes (pipeline/task-graph.ts), and
 * what each costs. Per token:
 *   embedding  a cache miss reads the token's row (and converts it to fp32);
 *   layer l    time-mix (with the channel-mix receptance); with sparse FFN, the predictor, then a read
 *              of the neurons it picked that the device does not hold, their decode, and the FFN over
 *              them; without, the FFN over every neuron;
 *   head       with a hierarchical head, the first level, then a read of the chosen clusters' rows, their
 *              decode and their logits; without, the whole head.
 * The dense model streamed layer by layer reads each layer's weights and the head every token, two reads
 * ahead of the compute that needs them (two buffers), instead of holding them.
 *
 * Costs come from the SoC profile through CostModel: a read is the storage's request latency plus bytes at
 * its bandwidth (a layer's neurons or a token's head clusters go as one batched request); a decode is the
 * CPU cluster's dequantization throughput (INT8) or its fp32 copy throughput (fp16 to fp32); compute is
 * the roofline of the step's FLOPs and the bytes of weights it streams from DRAM, and RNN-mode
 * matrix-vector work is bandwidth-bound on these chips, so the bytes decide: resident weights in their
 * stored type (fp16: 2 bytes, INT8: 1), rows decoded for the token as fp32. No per-layer overhead is
 * charged (the profiles' layerOverheadMs is STI's encoder-layer dispatch, not an RNN step's).
 */
import type { GraphTask } from '../../../pipeline/task-graph.js';
import type { CostModel } from '../../../soc/cost.js';
import { rankFor } from '../compress/lowrank.js';
import type { TechniqueSpec } from '../compress/setting.js';
import type { RwkvDims } from '../presets.js';
import { expectedShapes } from '../weights.js';

/** A setting as the device runs it: the techniques, and whether the dense weights are streamed every token. */
export interface EdgeSetting {
  spec: TechniqueSpec;
  /** Layers and head read from storage every token instead of held (the dense model on too little memory). */
  stream?: boolean;
}

/** What one token reads and computes (counts may be fractional in a prediction: expected values). */
export interface TokenSizes {
  /** Embedding rows read: 1 on a cache miss (or with the embedding streamed), 0 on a hit; a prediction's expected value between. */
  embRows: number;
  /** Per layer: FFN neurons computed (F when dense). */
  neurons: number[];
  /** Head rows computed (V when dense). */
  headRows: number;
}

/** Bytes of one stored vector of length D: fp16, or INT8 with an fp16 scale. */
const storedVector = (D: number, int8: boolean) => (int8 ? 2 + D : 2 * D);

/** Modeled times of one setting's work on one SoC, µs. */
export class TokenCosts {
  readonly bpp: number;
  constructor(
    readonly cost: CostModel,
    readonly dims: RwkvDims,
    readonly setting: EdgeSetting,
    /** Each layer's stored core bytes where a store says them (store.ts); else coreBytes estimates them. */
    private readonly storedCore?: readonly number[],
  ) {
    this.bpp = setting.spec.int8 ? 1 : 2;
  }

  io(bytes: number): number {
    return 1000 * this.cost.ioMs(bytes);
  }

  /** Stored bytes to fp32: dequantization (INT8) or conversion (fp16, at the fp32 copy rate). */
  decode(storedBytes: number, int8: boolean): number {
    return 1000 * (int8 ? this.cost.dequantMs(storedBytes) : this.cost.decompressMs(32, storedBytes));
  }

  compute(flops: number, bytes: number): number {
    return 1000 * this.cost.rooflineMs(flops, bytes);
  }

  /** Parameters of one layer's time-mix projections and channel-mix receptance (low-rank where factored). */
  get timeMixParams(): number {
    const { embd: D, version } = this.dims;
    const projections = version === '5.2' ? 4 : 3; // r, k, v (and g): the ones low-rank factors
    const lr = this.setting.spec.lowrank;
    const each = lr ? 2 * rankFor(D, lr.factor) * D : D * D;
    return (projections + 1) * each + D * D; // + channel-mix receptance (factored too) + output (never)
  }

  /** Time-mix of a layer: its projections and the WKV state update (state read and written in fp32). */
  timeMix(decoded: boolean): number {
    const { heads: H, headSize: N, embd: D } = this.dims;
    const p = this.timeMixParams;
    const state = H * N * N;
    return this.compute(2 * p + 4 * state + 20 * D, p * (decoded ? 4 : this.bpp) + 8 * state);
  }

  /** Parameters of one layer's predictors: the packed b-bit key copy (as bytes) and the MLP. */
  get predictorBytes(): number {
    const { embd: D, ffn: F } = this.dims;
    const p = this.setting.spec.sparseFfn;
    if (!p) return 0;
    const packed = p.quant ? (F * D * p.quant.bits) / 8 : 0;
    return packed + (p.mlp ? (64 * D + F * 64) * this.bpp : 0);
  }

  predictor(): number {
    const { embd: D, ffn: F } = this.dims;
    const p = this.setting.spec.sparseFfn!;
    const flops = (p.quant ? 2 * F * D : 0) + (p.mlp ? 2 * (64 * D + F * 64) : 0) + F * Math.log2(F);
    return this.compute(flops, this.predictorBytes);
  }

  ffn(neurons: number, decoded: boolean): number {
    const p = 2 * neurons * this.dims.embd;
    return this.compute(2 * p, p * (decoded ? 4 : this.bpp));
  }

  /** Head logits over `rows` rows (plus the first level of a hierarchical head, and the greedy pick). */
  head(rows: number, decoded: boolean): number {
    const D = this.dims.embd;
    return this.compute(2 * rows * D + 4 * rows, rows * D * (decoded ? 4 : this.bpp));
  }

  headL1(): number {
    const K = this.setting.spec.clusterHead!.clusters;
    return this.compute(2 * K * this.dims.embd, K * this.dims.embd * this.bpp);
  }

  /** Stored bytes of one FFN neuron (key row + value column), a head row, an embedding row (never INT8). */
  get neuronBytes(): number {
    return 2 * storedVector(this.dims.embd, !!this.setting.spec.int8);
  }
  get headRowBytes(): number {
    return storedVector(this.dims.embd, !!this.setting.spec.int8);
  }
  get embRowBytes(): number {
    return 2 * this.dims.embd;
  }
  private readonly cores: number[] = [];

  /** Stored bytes of layer l's core (time-mix, receptance, vectors) as store.ts lays it out. */
  coreBytesOf(l: number): number {
    if (this.storedCore?.[l] !== undefined) return this.storedCore[l];
    return (this.cores[l] ??= this.countCore(l));
  }

  private countCore(l: number): number {
    const { int8, lowrank } = this.setting.spec;
    // A setting with low rank on a dense model's dims runs factored weights (svd or a trained sibling).
    const dims =
      lowrank && !this.dims.lowrank
        ? { ...this.dims, lowrank: { factor: lowrank.factor, kind: lowrank.kind, rank: rankFor(this.dims.embd, lowrank.factor) } }
        : this.dims;
    let bytes = 0;
    for (const [name, shape] of expectedShapes(dims)) {
      if (!name.startsWith(`blocks.${l}.`) || /\.ffn\.(key|value)\.weight$/.test(name)) continue;
      bytes += !!int8 && shape.length === 2 ? shape[0]! * storedVector(shape[1]!, true) : 2 * shape.reduce((a, b) => a * b, 1);
    }
    return bytes;
  }
}

/** What one graph task carries for memory accounting. */
export interface TaskMemory {
  /** A read's stored bytes (in flight from its end to its decode's end). */
  read?: number;
  /** A decode: the read it decodes, and the fp32 bytes it makes (held to the end of `consumer`). */
  decodes?: { read: number; decodedBytes: number; consumer: number };
}

/** Builds the tasks of successive tokens, keeping what links a token to the ones before it. */
export class TokenGraph {
  private next = 0;
  /** The previous token's last task (its head): the next token's id is known only after it. */
  private lastHead = -1;
  /** Computes consuming each streamed read, in read order (a read waits for the one two reads back). */
  private readonly streamed: number[] = [];
  readonly memory = new Map<number, TaskMemory>();
  /** Each task's kind of real work: which read or decode it is. */
  readonly what = new Map<number, ReadKind>();

  constructor(readonly costs: TokenCosts) {}

  /** The tasks of token `token` with these sizes; ids continue from the previous token's. */
  tokenTasks(token: number, sizes: TokenSizes): GraphTask[] {
    const c = this.costs;
    const { spec, stream } = c.setting;
    const int8 = !!spec.int8;
    const bits = int8 ? 8 : 16;
    const tasks: GraphTask[] = [];
    const add = (t: Omit<GraphTask, 'token' | 'bits' | 'slice'> & { slice?: number }) => {
      tasks.push({ slice: -1, bits, token, ...t });
      return this.next++;
    };
    const compute = (part: string, layer: number, us: number, after: number[] = [], bytes = 0) =>
      add({ lane: 'cpu', stage: 'compute', part, layer, us, after, bytes });
    /**
     * A read and its decode; the consumer (the compute created next) frees the decoded bytes. `share` < 1 is
     * a prediction's expected share of a read that happens on some tokens only (an embedding cache miss).
     */
    const read = (kind: ReadKind, part: string, layer: number, bytes: number, after: number[], readInt8 = int8, share = 1) => {
      const r = add({ lane: 'io', stage: 'io', part, layer, us: share * c.io(bytes), after, bytes: share * bytes });
      this.memory.set(r, { read: share * bytes });
      this.what.set(r, kind);
      bytes *= share;
      const d = add({ lane: 'cpu', stage: 'decompress', part, layer, us: c.decode(bytes, readInt8), after: [r], bytes });
      this.memory.set(d, { decodes: { read: r, decodedBytes: decodedBytes(bytes, readInt8, c.dims.embd), consumer: this.next } });
      this.what.set(d, kind);
      return d;
    };
    const streamedRead = (kind: ReadKind, part: string, layer: number, bytes: number) => {
      const k = this.streamed.length;
      this.streamed.push(-1);
      // The consumer is the compute created right after this read's decode.
      const after = k >= 2 ? [this.streamed[k - 2]!] : [];
      const d = read(kind, part, layer, bytes, after);
      this.streamed[k] = this.next;
      return d;
    };
    const prev = this.lastHead >= 0 ? [this.lastHead] : [];
    if (sizes.embRows > 0) read('emb', 'embedding', -1, c.embRowBytes, prev, false, sizes.embRows);
    const D = c.dims.embd;
    const F = c.dims.ffn;
    for (let l = 0; l < c.dims.layers; l++) {
      if (stream) streamedRead('core', 'time-mix', l, c.coreBytesOf(l));
      compute('time-mix', l, c.timeMix(!!stream), [], c.timeMixParams * c.bpp);
      if (spec.sparseFfn) {
        const p = compute('predictor', l, c.predictor(), [], c.predictorBytes);
        const n = sizes.neurons[l]!;
        read('ffn-rows', 'ffn', l, n * c.neuronBytes, [p]);
        compute('ffn', l, c.ffn(n, true), [], 2 * n * D * 4);
      } else if (stream) {
        streamedRead('ffn', 'ffn', l, F * c.neuronBytes);
        compute('ffn', l, c.ffn(F, true), [], 2 * F * D * 4);
      } else compute('ffn', l, c.ffn(F, false), [], 2 * F * D * c.bpp);
    }
    const L = c.dims.layers;
    if (spec.clusterHead) {
      const l1 = compute('head-l1', L, c.headL1());
      read('head-rows', 'head', L, sizes.headRows * c.headRowBytes, [l1]);
      this.lastHead = compute('head', L, c.head(sizes.headRows, true), [], sizes.headRows * D * 4);
    } else if (stream) {
      streamedRead('head', 'head', L, c.dims.vocab * c.headRowBytes);
      this.lastHead = compute('head', L, c.head(c.dims.vocab, true), [], c.dims.vocab * D * 4);
    } else this.lastHead = compute('head', L, c.head(c.dims.vocab, false), [], c.dims.vocab * D * c.bpp);
    return tasks;
  }

  /** Global id of the last task created (the token's head). */
  get lastTask(): number {
    return this.next - 1;
  }
}

export type ReadKind = 'emb' | 'core' | 'ffn' | 'ffn-rows' | 'head' | 'head-rows';

/** fp32 bytes a decode of `stored` bytes of D-long vectors makes. */
function decodedBytes(stored: number, int8: boolean, D: number): number {
  return (stored / storedVector(D, int8)) * D * 4;
}
