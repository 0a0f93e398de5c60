/**
 * One RNN-mode step of an RWKV model as one ONNX graph, for a batch of independent sequences (lanes): each
 * lane's token embedding row (ln0 already applied) and recurrent state in, its logits and next state out.
 * Equations: rwkv-edge.md §2.
 */
import { FLOAT, GraphBuilder, UINT8 } from '../../core/onnx-graph.js';
import type { Tensor } from '../../core/safetensors.js';
import { encodeLinearInt8 } from './compress/int8.js';
import { keptNeurons, layerQuantile, quantizeCopy, type QuantPredictor, type SparseFfn } from './sparse-ffn.js';
import { LAYER_NORM_EPS, mapFloats, type RwkvWeights } from './weights.js';

/**
 * Where the big matrices live: baked into the graph as initializers, or fed as inputs on every run (the
 * same ort tensors each time). Vectors are always initializers.
 */
export type WeightsAs = 'initializers' | 'inputs';

export interface StepOptions {
  weightsAs?: WeightsAs;
  /**
   * Mask channel-mix to the neurons a predictor picks (sparse-ffn.ts); adds the `ffn_stats` output and
   * `ffn_mask`, the picked neurons of every layer (batch, L × F, uint8 0/1): the rows a device would read.
   */
  sparseFfn?: SparseFfn;
  /** The trained MLP predictors, where sparseFfn.mlp asks for them (loadMlpPredictors). */
  predictors?: Map<string, Tensor>;
  /** A hierarchical head's first level (K, D): adds the `cluster_logits` output (cluster-head.ts). */
  headL1?: Tensor;
  /**
   * RWKV-edge's INT8 (compress/int8.ts): every matrix but the embedding held as uint8 codes with per-row
   * and per-column offsets and scales, dequantized inside each step. The codes are graph inputs, not
   * initializers, so that onnxruntime cannot fold the dequantization into a float copy at load.
   */
  int8?: boolean;
}

/** The recurrent state of one layer, flat; the model's state is L of these back to back. */
export interface StateLayout {
  /** Floats per layer. */
  perLayer: number;
  /** Offset and length within a layer of each part. */
  parts: Record<string, { at: number; length: number }>;
  /** Initial values that are not 0 (v4's pp = −1e30). */
  fill: { part: string; value: number }[];
}

/**
 * v4: token-shift inputs of time-mix and channel-mix, and the WKV's aa / bb / pp (running exponent max).
 * v5: the two token-shift inputs and each head's N×N matrix S[key][value].
 */
export function stateLayout(w: Pick<RwkvWeights, 'version' | 'embd' | 'heads' | 'headSize'>): StateLayout {
  const D = w.embd;
  const sizes: [string, number][] =
    w.version === '4'
      ? [
          ['att_x', D],
          ['aa', D],
          ['bb', D],
          ['pp', D],
          ['ffn_x', D],
        ]
      : [
          ['att_x', D],
          ['ffn_x', D],
          ['s', w.heads * w.headSize * w.headSize],
        ];
  const parts: StateLayout['parts'] = {};
  let at = 0;
  for (const [name, length] of sizes) {
    parts[name] = { at, length };
    at += length;
  }
  return { perLayer: at, parts, fill: w.version === '4' ? [{ part: 'pp', value: -1e30 }] : [] };
}

/** A fresh state: zeros, except the layout's fills. */
export function initialState(layout: StateLayout, layers: number): Float32Array {
  const s = new Float32Array(layout.perLayer * layers);
  for (let l = 0; l < layers; l++)
    for (const { part, value } of layout.fill) {
      const p = layout.parts[part];
      s.fill(value, l * layout.perLayer + p.at, l * layout.perLayer + p.at + p.length);
    }
  return s;
}

/** (out, in) row-major → (in, out), so MatMul(x, Wᵀ) computes W·x. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

export interface StepGraph {
  bytes: Uint8Array;
  /** Matrices fed as inputs (name → data, dims): float ones when weightsAs is 'inputs', INT8 codes always. */
  inputs: { name: string; data: Float32Array | Uint8Array; dims: number[] }[];
  layout: StateLayout;
}

/** Graph-building context: the builder, the weights, and where matrices go. */
class Step {
  readonly inputs: StepGraph['inputs'] = [];
  constructor(
    readonly g: GraphBuilder,
    readonly w: RwkvWeights,
    private readonly weightsAs: WeightsAs,
    private readonly predictors?: Map<string, Tensor>,
    private readonly int8 = false,
  ) {}

  t(name: string): Float32Array {
    return this.w.tensors.get(name)!.data;
  }

  vec(name: string, data = this.t(name), dims = [data.length]): string {
    return this.g.initializer(name, data, dims);
  }

  /**
   * W·x for the PyTorch (out, in) matrix `name`, x of shape (in); for a factored projection (no `name`,
   * but its two factors), the low-rank form. `copy` stands in another matrix of the same shape under its
   * own name (the predictor's quantized copy of a key matrix), never INT8.
   */
  matmul(x: string, name: string, output?: string, copy?: { as: string; data: Float32Array }): string {
    if (!this.w.tensors.has(name) && name.endsWith('.weight')) return this.lowRank(x, name.slice(0, -'.weight'.length), output);
    const [rows, cols] = this.w.tensors.get(name)!.shape;
    if (this.int8 && !copy) return this.int8MatMul(x, name, this.t(name), rows!, cols!, output);
    const data = transposed(copy?.data ?? this.t(name), rows!, cols!);
    const dims = [cols!, rows!];
    const as = copy?.as ?? name;
    if (this.weightsAs === 'inputs') this.inputs.push({ name: this.g.input(as, dims), data, dims });
    else this.g.initializer(as, data, dims);
    return this.g.node('MatMul', [x, as], {}, output);
  }

  /** x058: W₂·(W₁x); x059: W₂·relu(W₁x)² + d⊙x (weights.ts LowRankShape). */
  private lowRank(x: string, base: string, output?: string): string {
    const g = this.g;
    let h = this.matmul(x, `${base}1.weight`);
    if (this.w.lowrank?.kind === 'relu2') {
      const r = g.node('Relu', [h]);
      h = g.node('Mul', [r, r]);
      const y = this.matmul(h, `${base}2.weight`);
      return g.node('Add', [y, g.node('Mul', [x, this.vec(`${base}_diag`)])], {}, output);
    }
    return this.matmul(h, `${base}2.weight`, output);
  }

  /**
   * x·M̂ for the (in, out) matrix M̂ = (q + ½)·rx·ry + my + mx the pip package's INT8 stands for, as
   * rx ⊙ ((x ⊙ ry)·(q + ½)) + x·my + (Σx)·mx: the codes are widened to float inside the step.
   */
  private int8MatMul(x: string, name: string, w: Float32Array, rows: number, cols: number, output?: string): string {
    const g = this.g;
    const m = encodeLinearInt8(w, rows, cols); // (in, out) = (cols, rows)
    const dims = [cols, rows];
    this.inputs.push({ name: g.input(`${name}.q`, dims, UINT8), data: m.q, dims });
    const codes = g.node('Add', [g.node('Cast', [`${name}.q`], { to: FLOAT }), this.half()]);
    const scaled = g.node('MatMul', [g.node('Mul', [x, this.vec(`${name}.ry`, m.ry)]), codes]);
    const rowOffsets = g.node('MatMul', [x, this.vec(`${name}.my`, m.my, [cols, 1])]);
    const colOffsets = g.node('Mul', [g.node('ReduceSum', [x, this.axisOne()], { keepdims: 1 }), this.vec(`${name}.mx`, m.mx)]);
    const y = g.node('Add', [g.node('Mul', [scaled, this.vec(`${name}.rx`, m.rx)]), rowOffsets]);
    return g.node('Add', [y, colOffsets], {}, output);
  }

  private half(): string {
    if (!this.halfName) this.halfName = this.vec('int8_half', new Float32Array([0.5]));
    return this.halfName;
  }
  private halfName?: string;

  /** A trained predictor's matrix, named as in predictors.safetensors. */
  predictor(name: string): { name: string; tensor: Tensor } {
    const tensor = this.predictors?.get(name);
    if (!tensor) throw new Error(`step graph: predictor ${name} was not loaded`);
    return { name, tensor };
  }

  /** W·x for a matrix that is not one of the model's weights (a predictor's), as an initializer. */
  matmulWith(x: string, m: { name: string; tensor: Tensor }): string {
    const [rows, cols] = m.tensor.shape;
    if (this.int8) return this.int8MatMul(x, m.name, m.tensor.data, rows!, cols!);
    this.g.initializer(m.name, transposed(m.tensor.data, rows!, cols!), [cols!, rows!]);
    return this.g.node('MatMul', [x, m.name]);
  }

  /** The constant [1]: the axis ReduceSum sums over (one initializer, shared). */
  axisOne(): string {
    if (!this.axis1) this.axis1 = this.g.ints('axis_1', [1]);
    return this.axis1;
  }
  private axis1?: string;

  layerNorm(x: string, prefix: string, eps = LAYER_NORM_EPS): string {
    return this.g.node('LayerNormalization', [x, this.vec(`${prefix}.weight`), this.vec(`${prefix}.bias`)], {
      axis: -1,
      epsilon: { float: eps },
    });
  }

  /** Token shift: xx·μ + prev·(1 − μ), with μ the tensor `mix`. */
  shift(xx: string, prev: string, mix: string): string {
    const g = this.g;
    const complement = this.vec(
      `${mix}.complement`,
      mapFloats(this.t(mix), (m) => 1 - m),
    );
    return g.node('Add', [g.node('Mul', [xx, this.vec(mix)]), g.node('Mul', [prev, complement])]);
  }

  /** A part of layer l's state: every lane's slice of the state input, (batch, length). */
  slice(state: string, layout: StateLayout, l: number, part: string): string {
    const p = layout.parts[part];
    const at = l * layout.perLayer + p.at;
    const g = this.g;
    const ends = [g.ints(`s${l}_${part}_begin`, [at]), g.ints(`s${l}_${part}_end`, [at + p.length])];
    return g.node('Slice', [state, ...ends, g.ints(`s${l}_${part}_axes`, [1])]);
  }
}

/** v4 time-mix: returns the residual update and the next aa, bb, pp. */
function timeMixV4(s: Step, xx: string, prev: string, get: (part: string) => string, p: string) {
  const g = s.g;
  const r = g.node('Sigmoid', [s.matmul(s.shift(xx, prev, `${p}.time_mix_r`), `${p}.receptance.weight`)]);
  const k = s.matmul(s.shift(xx, prev, `${p}.time_mix_k`), `${p}.key.weight`);
  const v = s.matmul(s.shift(xx, prev, `${p}.time_mix_v`), `${p}.value.weight`);
  const [aa, bb, pp] = [get('aa'), get('bb'), get('pp')];
  // Output: the bonus u joins the current token's exponent; everything is scaled by the running max.
  const ww = g.node('Add', [s.vec(`${p}.time_first`), k]);
  const q = g.node('Max', [pp, ww]);
  const e1 = g.node('Exp', [g.node('Sub', [pp, q])]);
  const e2 = g.node('Exp', [g.node('Sub', [ww, q])]);
  const num = g.node('Add', [g.node('Mul', [e1, aa]), g.node('Mul', [e2, v])]);
  const den = g.node('Add', [g.node('Mul', [e1, bb]), e2]);
  const out = s.matmul(g.node('Mul', [r, g.node('Div', [num, den])]), `${p}.output.weight`);
  // State: decay the past (w < 0 in log space), add this token.
  const ww2 = g.node('Add', [pp, s.vec(`${p}.time_decay`)]);
  const q2 = g.node('Max', [ww2, k]);
  const f1 = g.node('Exp', [g.node('Sub', [ww2, q2])]);
  const f2 = g.node('Exp', [g.node('Sub', [k, q2])]);
  const aa2 = g.node('Add', [g.node('Mul', [f1, aa]), g.node('Mul', [f2, v])]);
  const bb2 = g.node('Add', [g.node('Mul', [f1, bb]), f2]);
  return { out, state: { aa: aa2, bb: bb2, pp: q2 } };
}

/** v5 time-mix (per-head matrix state, GroupNorm, the gate in 5.2): the residual update and the next S. */
function timeMixV5(s: Step, xx: string, prev: string, S: string, p: string, l: number) {
  const { g, w } = s;
  const [H, N] = [w.heads, w.headSize];
  const shape = (name: string, dims: number[]) => g.ints(`l${l}_${name}`, dims);
  const proj = (m: string, weight: string) => s.matmul(s.shift(xx, prev, `${p}.time_mix_${m}`), `${p}.${weight}.weight`);
  // Shapes lead with the batch (-1).
  const row = shape('row', [-1, H, 1, N]);
  const r = g.node('Reshape', [proj('r', 'receptance'), row]);
  const k = g.node('Reshape', [proj('k', 'key'), shape('col', [-1, H, N, 1])]);
  const v = g.node('Reshape', [proj('v', 'value'), row]);
  const kv = g.node('MatMul', [k, v]); // (batch, H, N, N): k_i·v_j
  const s3 = g.node('Reshape', [S, shape('hnn', [-1, H, N, N])]);
  const u = s.vec(`${p}.time_first`, s.t(`${p}.time_first`), [H, N, 1]);
  const y = g.node('MatMul', [r, g.node('Add', [g.node('Mul', [u, kv]), s3])]); // (batch, H, 1, N)
  const decay = s.vec(`${p}.decay_factor`, mapFloats(s.t(`${p}.time_decay`), Math.exp), [H, N, 1]);
  const next = g.node('Reshape', [g.node('Add', [kv, g.node('Mul', [decay, s3])]), shape('flat_s', [-1, H * N * N])]);
  // GroupNorm with one group per head: LayerNormalization over each head's N values.
  const ones = s.vec(`l${l}_gn_ones`, new Float32Array(N).fill(1));
  const gn = g.node('LayerNormalization', [g.node('Reshape', [y, shape('hn', [-1, H, N])]), ones], {
    axis: -1,
    epsilon: { float: w.groupNormEps },
  });
  let o = g.node('Add', [
    g.node('Mul', [g.node('Reshape', [gn, shape('d', [-1, H * N])]), s.vec(`${p}.ln_x.weight`)]),
    s.vec(`${p}.ln_x.bias`),
  ]);
  if (w.version === '5.2') {
    const gp = proj('g', 'gate');
    o = g.node('Mul', [o, g.node('Mul', [gp, g.node('Sigmoid', [gp])])]);
  }
  return { out: s.matmul(o, `${p}.output.weight`), next };
}

/** Channel-mix (v4 = v5): σ(Wr·xr) ⊙ Wv·relu(Wk·xk)²; with a predictor, only its neurons count. */
function channelMix(s: Step, xx: string, prev: string, p: string, l: number, sparse?: SparseFfn) {
  const g = s.g;
  const r = g.node('Sigmoid', [s.matmul(s.shift(xx, prev, `${p}.time_mix_r`), `${p}.receptance.weight`)]);
  const xk = s.shift(xx, prev, `${p}.time_mix_k`);
  const pre = s.matmul(xk, `${p}.key.weight`);
  const k = g.node('Relu', [pre]);
  let h = g.node('Mul', [k, k]);
  let stats: string | undefined;
  let mask: string | undefined;
  if (sparse) {
    const picks = [
      ...(sparse.quant ? [quantPredicted(s, xk, p, l, sparse.quant)] : []),
      ...(sparse.mlp ? [mlpPredicted(s, xk, p, sparse.mlp.threshold)] : []),
    ];
    const predicted = picks.length === 1 ? picks[0]! : g.node('Or', picks);
    h = g.node('Mul', [h, g.node('Cast', [predicted], { to: FLOAT })]);
    stats = ffnStats(s, g.node('Greater', [pre, s.vec(`l${l}_zero`, new Float32Array([0]))]), predicted);
    mask = g.node('Cast', [predicted], { to: UINT8 });
  }
  return { out: g.node('Mul', [r, s.matmul(h, `${p}.value.weight`)]), stats, mask };
}

/** Neurons whose score under the b-bit key copy is among the token's top (1 − q)·F: a bool (batch, F). */
function quantPredicted(s: Step, xk: string, p: string, l: number, quant: QuantPredictor): string {
  const { g, w } = s;
  const name = `${p}.key.weight`;
  const scores = s.matmul(xk, name, undefined, { as: `${name}.q${quant.bits}`, data: quantizeCopy(s.t(name), quant.bits) });
  const k = keptNeurons(w.ffn, layerQuantile(quant, l));
  const [top] = g.multi('TopK', [scores, g.ints(`l${l}_kept`, [k])], 2, { axis: -1 });
  const threshold = g.node('ReduceMin', [top!], { axes: [1], keepdims: 1 });
  return g.node('GreaterOrEqual', [scores, threshold]);
}

/** Neurons the layer's MLP predictor scores above θ: sigmoid(fc2·relu(fc1·xk)) > θ, a bool (batch, F). */
function mlpPredicted(s: Step, xk: string, p: string, threshold: number): string {
  const g = s.g;
  const t = (name: string) => s.predictor(`${p}.predictor.${name}.weight`);
  const hidden = g.node('Relu', [s.matmulWith(xk, t('fc1'))]);
  const logit = s.matmulWith(hidden, t('fc2'));
  // sigmoid(z) > θ ⇔ z > log(θ / (1 − θ)): no sigmoid needed.
  return g.node('Greater', [logit, s.vec(`${p}.predictor.logit_threshold`, new Float32Array([Math.log(threshold / (1 - threshold))]))]);
}

/** Per lane: [truly active, predicted active, both] neuron counts, (batch, 3). */
function ffnStats(s: Step, active: string, predicted: string): string {
  const g = s.g;
  const count = (b: string) => g.node('ReduceSum', [g.node('Cast', [b], { to: FLOAT }), s.axisOne()], { keepdims: 1 });
  return g.node('Concat', [count(active), count(predicted), count(g.node('And', [active, predicted]))], { axis: 1 });
}

/**
 * The step graph. Inputs: `x` (batch, D), each lane's token embedding row with ln0 applied; `state`
 * (batch, L × perLayer). Outputs: `logits` (batch, V) and `state_out`, the next state in the same layout.
 */
export function stepGraph(w: RwkvWeights, opts: StepOptions = {}): StepGraph {
  const g = new GraphBuilder(`rwkv_${w.version}_step`);
  const s = new Step(g, w, opts.weightsAs ?? 'initializers', opts.predictors, opts.int8);
  const stats: string[] = [];
  const masks: string[] = [];
  const layout = stateLayout(w);
  const state = g.input('state', ['batch', layout.perLayer * w.layers]);
  let x = g.input('x', ['batch', w.embd]);
  const nextState: string[] = [];
  for (let l = 0; l < w.layers; l++) {
    const get = (part: string) => s.slice(state, layout, l, part);
    const p = `blocks.${l}`;
    const xx = s.layerNorm(x, `${p}.ln1`);
    const parts: Record<string, string> = { att_x: xx };
    if (w.version === '4') {
      const att = timeMixV4(s, xx, get('att_x'), get, `${p}.att`);
      x = g.node('Add', [x, att.out]);
      Object.assign(parts, att.state);
    } else {
      const att = timeMixV5(s, xx, get('att_x'), get('s'), `${p}.att`, l);
      x = g.node('Add', [x, att.out]);
      parts.s = att.next;
    }
    const xx2 = s.layerNorm(x, `${p}.ln2`);
    const ffn = channelMix(s, xx2, get('ffn_x'), `${p}.ffn`, l, opts.sparseFfn);
    x = g.node('Add', [x, ffn.out]);
    if (ffn.stats) stats.push(ffn.stats);
    if (ffn.mask) masks.push(ffn.mask);
    parts.ffn_x = xx2;
    nextState.push(...Object.keys(layout.parts).map((k) => parts[k]));
  }
  g.node('Concat', nextState, { axis: 1 }, 'state_out');
  const xhat = s.layerNorm(x, 'ln_out');
  s.matmul(xhat, 'head.weight', 'logits');
  if (opts.headL1) {
    g.node('Identity', [s.matmulWith(xhat, { name: 'head_l1.weight', tensor: opts.headL1 })], {}, 'cluster_logits');
    g.output('cluster_logits', ['batch', opts.headL1.shape[0]!]);
  }
  g.output('logits', ['batch', w.vocab]);
  g.output('state_out', ['batch', layout.perLayer * w.layers]);
  if (stats.length > 0) {
    g.node('Concat', stats, { axis: 1 }, 'ffn_stats');
    g.output('ffn_stats', ['batch', 3 * w.layers]);
    g.node('Concat', masks, { axis: 1 }, 'ffn_mask');
    g.output('ffn_mask', ['batch', w.ffn * w.layers], UINT8);
  }
  return { bytes: g.toBytes(), inputs: s.inputs, layout };
}
