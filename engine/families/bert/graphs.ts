/**
 * The BERT computation as ONNX graphs. The same three pieces build both the engine's graphs (one
 * embedding graph, one layer graph whose weights are inputs so it runs any layer at any width, one
 * head graph) and the monolithic whole-model graph the benchmark compares against.
 */
import { GraphBuilder, INT64 } from '../../core/onnx-graph.js';
import type { Activation, BertConfig } from './config.js';
import { LAYER_PARTS, sliceLayer, type BaseWeights, type BertWeights, type LayerPart, type LayerWeights } from './weights.js';

/** PyTorch's additive attention mask for padding: (1 - mask) * MASK_VALUE. */
export const MASK_VALUE = -10000;

export type LayerNames = Record<LayerPart, string>;

/**
 * Word + position + token type embeddings, layer-normed, and the attention bias. Without `types` every
 * token is of type 0 (the row is added as a constant, as in every graph before sentence pairs); with it
 * (a token_type_ids input, for sentence pairs) each token's type row is gathered.
 */
function addEmbeddings(g: GraphBuilder, cfg: BertConfig, w: BaseWeights, ids: string, mask: string, types?: string) {
  const H = cfg.hidden;
  const word = g.node('Gather', [g.initializer('word_embeddings', w.wordEmb, [cfg.vocabSize, H]), ids]);
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1]), g.ints('two', [2])]);
  const pos = g.node('Slice', [
    g.initializer('position_embeddings', w.posEmb, [cfg.maxPositions, H]),
    g.ints('zero', [0]),
    seqLen,
    g.ints('zero_axis', [0]),
  ]);
  const type = types
    ? g.node('Gather', [g.initializer('token_type_embeddings', w.typeEmb, [w.typeEmb.length / H, H]), types])
    : g.initializer('token_type_0', w.typeEmb.subarray(0, H), [H]);
  const sum = g.node('Add', [g.node('Add', [word, pos]), type]);
  const lnG = g.initializer('emb_ln_g', w.embLnG, [H]);
  const lnB = g.initializer('emb_ln_b', w.embLnB, [H]);
  const x = g.node('LayerNormalization', [sum, lnG, lnB], { axis: -1, epsilon: { float: cfg.eps } });
  const inverted = g.node('Sub', [g.scalar('f_one', 1), mask]);
  const bias = g.node('Unsqueeze', [g.node('Mul', [inverted, g.scalar('mask_value', MASK_VALUE)]), g.ints('axes_1_2', [1, 2])]);
  return { x, bias };
}

/** Names of the Q, K, V rows and biases of the heads an attention block runs (all of a layer's, or one). */
export type AttentionNames = Pick<LayerNames, 'wq' | 'bq' | 'wk' | 'bk' | 'wv' | 'bv'>;

/** An attention block's query-side rows and its heads' context, both 2-D: [rows, hidden] and [rows, heads × d]. */
export interface Context {
  xq: string;
  ctx: string;
}

/** Attention over every position: rows = batch × seq. */
function addContextAll(g: GraphBuilder, cfg: BertConfig, x: string, bias: string, w: AttentionNames, tag: string): Context {
  const H = cfg.hidden;
  const x2 = g.node('Reshape', [x, g.ints(`${tag}_flat`, [-1, H])]);
  const bsShape = g.node('Slice', [g.node('Shape', [x]), g.ints(`${tag}_z`, [0]), g.ints(`${tag}_two`, [2])]);
  const headShape = g.node('Concat', [bsShape, g.ints(`${tag}_heads`, [-1, cfg.headDim])], { axis: 0 });
  const heads = (weight: string, b: string, perm: number[]) => {
    const proj = g.node('Gemm', [x2, weight, b], { transB: 1 });
    return { proj, t: g.node('Transpose', [g.node('Reshape', [proj, headShape])], { perm }) };
  };
  const q = heads(w.wq, w.bq, [0, 2, 1, 3]);
  const k = heads(w.wk, w.bk, [0, 2, 3, 1]);
  const v = heads(w.wv, w.bv, [0, 2, 1, 3]);
  const scores = g.node('Div', [g.node('MatMul', [q.t, k.t]), g.scalar(`${tag}_sqrt_d`, Math.sqrt(cfg.headDim))]);
  const probs = g.node('Softmax', [g.node('Add', [scores, bias])], { axis: -1 });
  const ctx = g.node('Transpose', [g.node('MatMul', [probs, v.t])], { perm: [0, 2, 1, 3] });
  return { xq: x2, ctx: g.node('Reshape', [ctx, g.node('Shape', [q.proj])]) };
}

/**
 * Attention for position 0 alone (rows = batch), without projecting keys and values at every position.
 * Per head h, q·(Wk x_j + bk) = (Wk^T q)·x_j + q·bk, and Σ_j p_j (Wv x_j + bv) = Wv (Σ_j p_j x_j) + bv
 * (the p_j sum to 1): two products with the layer input instead of two [seq × hidden × hidden] projections.
 * The same function of the weights as addContextAll's row 0, summed in another order (float rounding only).
 */
function addContextCls(g: GraphBuilder, cfg: BertConfig, x: string, bias: string, w: AttentionNames, tag: string): Context {
  const [H, d] = [cfg.hidden, cfg.headDim];
  const byHead = g.ints(`${tag}_by_head`, [-1, d, H]);
  const headRows = g.ints(`${tag}_head_rows`, [-1, d]);
  const x0 = g.node('Gather', [x, g.intScalar(`${tag}_cls`, 0)], { axis: 1 });
  // q per head, [batch, heads, d].
  const q = g.node('Reshape', [g.node('Gemm', [x0, w.wq, w.bq], { transB: 1 }), g.ints(`${tag}_q3`, [0, -1, d])]);
  // Wk^T q per head, [batch, heads, hidden]; q·bk per head, [batch, heads, 1].
  const qByHead = g.node('Transpose', [q], { perm: [1, 0, 2] });
  const kq = g.node('Transpose', [g.node('MatMul', [qByHead, g.node('Reshape', [w.wk, byHead])])], { perm: [1, 0, 2] });
  const qbk = g.node('ReduceSum', [g.node('Mul', [q, g.node('Reshape', [w.bk, headRows])]), g.ints(`${tag}_last`, [-1])], {
    keepdims: 1,
  });
  const xt = g.node('Transpose', [x], { perm: [0, 2, 1] });
  const scores = g.node('Div', [g.node('Add', [g.node('MatMul', [kq, xt]), qbk]), g.scalar(`${tag}_sqrt_d`, Math.sqrt(d))]);
  const rowBias = g.node('Reshape', [bias, g.ints(`${tag}_bias3`, [0, 1, -1])]);
  const probs = g.node('Softmax', [g.node('Add', [scores, rowBias])], { axis: -1 });
  // Σ_j p_j x_j per head, then Wv of it: [heads, batch, hidden] × [heads, hidden, d].
  const mixed = g.node('Transpose', [g.node('MatMul', [probs, x])], { perm: [1, 0, 2] });
  const wvT = g.node('Transpose', [g.node('Reshape', [w.wv, byHead])], { perm: [0, 2, 1] });
  const ctx = g.node('Transpose', [g.node('MatMul', [mixed, wvT])], { perm: [1, 0, 2] });
  const withBias = g.node('Add', [ctx, g.node('Reshape', [w.bv, headRows])]);
  return { xq: x0, ctx: g.node('Reshape', [withBias, g.ints(`${tag}_ctx2`, [0, -1])]) };
}

/** The attention context of the heads in `w`: at every position, or (`clsOnly`) at position 0 alone. */
export function addContext(
  g: GraphBuilder,
  cfg: BertConfig,
  x: string,
  bias: string,
  w: AttentionNames,
  tag: string,
  clsOnly: boolean,
): Context {
  return clsOnly ? addContextCls(g, cfg, x, bias, w, tag) : addContextAll(g, cfg, x, bias, w, tag);
}

/** Names of the parts a layer runs after its attention output projection. */
export type FfnNames = Pick<LayerNames, 'ln1g' | 'ln1b' | 'wi' | 'bi' | 'wout' | 'bout' | 'ln2g' | 'ln2b'>;

/** The FFN activation of `f`, as Hugging Face's ACT2FN computes it. */
export function addActivation(g: GraphBuilder, activation: Activation, f: string, tag: string): string {
  switch (activation) {
    case 'gelu': {
      // GELU, erf form as in BERT: x * 0.5 * (1 + erf(x / sqrt 2)).
      const erf = g.node('Erf', [g.node('Div', [f, g.scalar(`${tag}_sqrt2`, Math.SQRT2)])]);
      return g.node('Mul', [g.node('Mul', [f, g.scalar(`${tag}_half`, 0.5)]), g.node('Add', [erf, g.scalar(`${tag}_one`, 1)])]);
    }
    case 'gelu_new': {
      // GELU, tanh approximation (gelu_new): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
      const cube = g.node('Mul', [g.node('Mul', [f, f]), f]);
      const inner = g.node('Mul', [
        g.node('Add', [f, g.node('Mul', [cube, g.scalar(`${tag}_gelu_c`, 0.044715)])]),
        g.scalar(`${tag}_sqrt_2_pi`, Math.sqrt(2 / Math.PI)),
      ]);
      const t = g.node('Tanh', [inner]);
      return g.node('Mul', [g.node('Mul', [f, g.scalar(`${tag}_half`, 0.5)]), g.node('Add', [t, g.scalar(`${tag}_one`, 1)])]);
    }
    case 'relu':
      return g.node('Relu', [f]);
    case 'silu':
      return g.node('Mul', [f, g.node('Sigmoid', [f])]);
  }
}

/** A layer after its attention output projection: residual and LayerNorm, FFN (its activation), residual and LayerNorm; [rows, hidden]. */
export function addFfn(g: GraphBuilder, cfg: BertConfig, xq: string, attn: string, w: FfnNames, tag: string): string {
  const ln1 = g.node('LayerNormalization', [g.node('Add', [xq, attn]), w.ln1g, w.ln1b], { axis: -1, epsilon: { float: cfg.eps } });
  const f = g.node('Gemm', [ln1, w.wi, w.bi], { transB: 1 });
  const o = g.node('Gemm', [addActivation(g, cfg.activation ?? 'gelu', f, tag), w.wout, w.bout]);
  return g.node('LayerNormalization', [g.node('Add', [ln1, o]), w.ln2g, w.ln2b], { axis: -1, epsilon: { float: cfg.eps } });
}

/** A layer's 2-D output rows back in the shape of its input ([batch, seq, hidden]), or [batch, 1, hidden] for position 0 alone. */
export function addLayerOut(g: GraphBuilder, x: string, rows: string, tag: string, clsOnly: boolean): string {
  return clsOnly ? g.node('Unsqueeze', [rows, g.ints(`${tag}_axis1`, [1])]) : g.node('Reshape', [rows, g.node('Shape', [x])]);
}

/** One encoder layer's output and the two intermediates a shard of it can reuse (see shard-graphs.ts). */
export interface LayerNodes {
  out: string;
  /** The attention output projection with its bias, before the residual: [rows, hidden]. */
  attn: string;
  /** Every head's attention context, before the output projection: [rows, hidden]. */
  ctx: string;
}

/**
 * One encoder layer. With `clsOnly` (a sequence classifier's last layer) it computes just the row the head
 * reads (see addContextCls), giving [batch, 1, hidden].
 */
export function addLayerNodes(
  g: GraphBuilder,
  cfg: BertConfig,
  x: string,
  bias: string,
  w: LayerNames,
  tag: string,
  clsOnly = false,
): LayerNodes {
  const { xq, ctx } = addContext(g, cfg, x, bias, w, tag, clsOnly);
  const attn = g.node('Gemm', [ctx, w.wo, w.bo]);
  return { out: addLayerOut(g, x, addFfn(g, cfg, xq, attn, w, tag), tag, clsOnly), attn, ctx };
}

function addLayer(g: GraphBuilder, cfg: BertConfig, x: string, bias: string, w: LayerNames, tag: string, clsOnly = false): string {
  return addLayerNodes(g, cfg, x, bias, w, tag, clsOnly).out;
}

export function addHead(g: GraphBuilder, cfg: BertConfig, w: BaseWeights, x: string): string {
  const H = cfg.hidden;
  const cls = g.node('Gather', [x, g.intScalar('cls_index', 0)], { axis: 1 });
  // BERT's pooler is tanh; DistilBERT's pre_classifier, in its place, is ReLU.
  const pooled = g.node(cfg.variant === 'distilbert' ? 'Relu' : 'Tanh', [
    g.node('Gemm', [cls, g.initializer('pooler_w', w.poolerW, [H, H]), g.initializer('pooler_b', w.poolerB, [H])], { transB: 1 }),
  ]);
  const L = cfg.labels.length;
  return g.node(
    'Gemm',
    [pooled, g.initializer('classifier_w', w.classifierW, [L, H]), g.initializer('classifier_b', w.classifierB, [L])],
    { transB: 1 },
    'logits',
  );
}

/** Shape of each layer part for m slices (m symbolic in the layer graph). */
export function partDims(cfg: BertConfig, part: LayerPart, m: number | 'm'): (number | string)[] {
  const spec = LAYER_PARTS.find((p) => p.part === part)!;
  const rows =
    spec.unit === 'head'
      ? m === 'm'
        ? 'm_head_rows'
        : m * cfg.headDim
      : spec.unit === 'ffn'
        ? m === 'm'
          ? 'm_ffn_rows'
          : m * cfg.ffnPerSlice
        : undefined;
  if (rows === undefined) return [cfg.hidden];
  return spec.rowLength === 'hidden' ? [rows, cfg.hidden] : [rows];
}

/** The token_type_ids input of the graphs for sentence pairs. */
function typesInput(g: GraphBuilder, pairs: boolean): string | undefined {
  return pairs ? g.input('token_type_ids', ['batch', 'seq'], INT64) : undefined;
}

/** With `pairs`, the graph takes token_type_ids (sentence pairs); without, every token is of type 0. */
export function embeddingGraph(cfg: BertConfig, w: BaseWeights, pairs = false): Uint8Array {
  const g = new GraphBuilder(pairs ? 'bert_embeddings_pairs' : 'bert_embeddings');
  const ids = g.input('input_ids', ['batch', 'seq'], INT64);
  const { x, bias } = addEmbeddings(g, cfg, w, ids, g.input('attention_mask', ['batch', 'seq']), typesInput(g, pairs));
  g.node('Identity', [x], {}, 'hidden');
  g.node('Identity', [bias], {}, 'mask_bias');
  g.output('hidden', ['batch', 'seq', cfg.hidden]);
  g.output('mask_bias', ['batch', 1, 1, 'seq']);
  return g.toBytes();
}

/**
 * One encoder layer whose weights are inputs: any layer, any number of slices, one session. With
 * `clsOnly`, the last layer of a classifier: only position 0 comes out ([batch, 1, hidden]).
 */
export function layerGraph(cfg: BertConfig, clsOnly = false): Uint8Array {
  const g = new GraphBuilder(clsOnly ? 'bert_layer_cls' : 'bert_layer');
  const x = g.input('hidden', ['batch', 'seq', cfg.hidden]);
  const bias = g.input('mask_bias', ['batch', 1, 1, 'seq']);
  const names = {} as LayerNames;
  for (const { part } of LAYER_PARTS) names[part] = g.input(part, partDims(cfg, part, 'm'));
  g.node('Identity', [addLayer(g, cfg, x, bias, names, 'l', clsOnly)], {}, 'out');
  g.output('out', ['batch', clsOnly ? 1 : 'seq', cfg.hidden]);
  return g.toBytes();
}

/** Input name of a layer part in the stacked graph. */
export function stackedInput(layer: number, part: LayerPart): string {
  return `l${layer}_${part}`;
}

/**
 * The whole request in one graph: embeddings and head as initializers, n layers whose weights are inputs
 * (any slices, any source). One session run per batch, for evaluation; the executor runs layer by layer.
 */
export function stackedGraph(cfg: BertConfig, w: BaseWeights, n: number, pairs = false): Uint8Array {
  const g = new GraphBuilder(`bert_stacked_${n}${pairs ? '_pairs' : ''}`);
  const ids = g.input('input_ids', ['batch', 'seq'], INT64);
  const emb = addEmbeddings(g, cfg, w, ids, g.input('attention_mask', ['batch', 'seq']), typesInput(g, pairs));
  let x = emb.x;
  for (let l = 0; l < n; l++) {
    const names = {} as LayerNames;
    for (const { part } of LAYER_PARTS) names[part] = g.input(stackedInput(l, part), partDims(cfg, part, 'm'));
    x = addLayer(g, cfg, x, emb.bias, names, `l${l}`);
  }
  addHead(g, cfg, w, x);
  g.output('logits', ['batch', cfg.labels.length]);
  return g.toBytes();
}

/**
 * The last n layers and the head, from a hidden state: what a request computes after its first layers,
 * in one session run. The last layer computes only the row the head reads. Weights are inputs, named as
 * in the stacked graph (layer 0 being the first of the n).
 */
export function tailGraph(cfg: BertConfig, w: BaseWeights, n: number): Uint8Array {
  const g = new GraphBuilder(`bert_tail_${n}`);
  let x = g.input('hidden', ['batch', 'seq', cfg.hidden]);
  const bias = g.input('mask_bias', ['batch', 1, 1, 'seq']);
  for (let l = 0; l < n; l++) {
    const names = {} as LayerNames;
    for (const { part } of LAYER_PARTS) names[part] = g.input(stackedInput(l, part), partDims(cfg, part, 'm'));
    x = addLayer(g, cfg, x, bias, names, `l${l}`, l === n - 1);
  }
  addHead(g, cfg, w, x);
  g.output('logits', ['batch', cfg.labels.length]);
  return g.toBytes();
}

export function headGraph(cfg: BertConfig, w: BaseWeights): Uint8Array {
  const g = new GraphBuilder('bert_head');
  addHead(g, cfg, w, g.input('hidden', ['batch', 'seq', cfg.hidden]));
  g.output('logits', ['batch', cfg.labels.length]);
  return g.toBytes();
}

/** The whole model (first n layers, first m slices) as one graph with its weights as initializers. */
export function monolithicGraph(cfg: BertConfig, w: BertWeights, n = cfg.layers, m = cfg.slices): Uint8Array {
  const g = new GraphBuilder('bert_monolithic');
  const emb = addEmbeddings(g, cfg, w, g.input('input_ids', ['batch', 'seq'], INT64), g.input('attention_mask', ['batch', 'seq']));
  let x = emb.x;
  for (let l = 0; l < n; l++) {
    const sliced: LayerWeights = sliceLayer(cfg, w.layers[l], m);
    const names = {} as LayerNames;
    for (const { part } of LAYER_PARTS) names[part] = g.initializer(`layer${l}_${part}`, sliced[part], partDims(cfg, part, m) as number[]);
    x = addLayer(g, cfg, x, emb.bias, names, `l${l}`);
  }
  addHead(g, cfg, w, x);
  g.output('logits', ['batch', cfg.labels.length]);
  return g.toBytes();
}
