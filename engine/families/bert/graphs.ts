/**
 * The BERT computation as ONNX graphs. The same three pieces build both the engine's graphs (one
 * embedding graph, one layer graph whose weights are inputs so it runs any layer at any width, one
 * head graph) and the monolithic whole-model graph the benchmark compares against.
 */
import { GraphBuilder, INT64 } from '../../core/onnx-graph.js';
import type { BertConfig } from './config.js';
import { LAYER_PARTS, sliceLayer, type BaseWeights, type BertWeights, type LayerPart, type LayerWeights } from './weights.js';

/** PyTorch's additive attention mask for padding: (1 - mask) * MASK_VALUE. */
export const MASK_VALUE = -10000;

type LayerNames = Record<LayerPart, string>;

function addEmbeddings(g: GraphBuilder, cfg: BertConfig, w: BaseWeights, ids: string, mask: string) {
  const H = cfg.hidden;
  const word = g.node('Gather', [g.initializer('word_embeddings', w.wordEmb, [cfg.vocabSize, H]), ids]);
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1]), g.ints('two', [2])]);
  const pos = g.node('Slice', [
    g.initializer('position_embeddings', w.posEmb, [cfg.maxPositions, H]),
    g.ints('zero', [0]),
    seqLen,
    g.ints('zero_axis', [0]),
  ]);
  const type0 = g.initializer('token_type_0', w.typeEmb.subarray(0, H), [H]);
  const sum = g.node('Add', [g.node('Add', [word, pos]), type0]);
  const lnG = g.initializer('emb_ln_g', w.embLnG, [H]);
  const lnB = g.initializer('emb_ln_b', w.embLnB, [H]);
  const x = g.node('LayerNormalization', [sum, lnG, lnB], { axis: -1, epsilon: { float: cfg.eps } });
  const inverted = g.node('Sub', [g.scalar('f_one', 1), mask]);
  const bias = g.node('Unsqueeze', [g.node('Mul', [inverted, g.scalar('mask_value', MASK_VALUE)]), g.ints('axes_1_2', [1, 2])]);
  return { x, bias };
}

/**
 * One encoder layer. With `clsOnly` (a sequence classifier's last layer) it computes just the row the head
 * reads: keys and values over every position, the query, attention output and FFN for position 0 alone,
 * giving [batch, 1, hidden]. That row is the same computation as in the full layer.
 */
function addLayer(g: GraphBuilder, cfg: BertConfig, x: string, bias: string, w: LayerNames, tag: string, clsOnly = false): string {
  const H = cfg.hidden;
  const x2 = g.node('Reshape', [x, g.ints(`${tag}_flat`, [-1, H])]);
  const bsShape = g.node('Slice', [g.node('Shape', [x]), g.ints(`${tag}_z`, [0]), g.ints(`${tag}_two`, [2])]);
  const headShape = g.node('Concat', [bsShape, g.ints(`${tag}_heads`, [-1, cfg.headDim])], { axis: 0 });
  const heads = (input: string, shape: string, weight: string, b: string, perm: number[]) => {
    const proj = g.node('Gemm', [input, weight, b], { transB: 1 });
    return { proj, t: g.node('Transpose', [g.node('Reshape', [proj, shape])], { perm }) };
  };
  // The query side: every position, or position 0 alone ([batch, hidden], viewed as [batch, 1, heads, d]).
  const xq = clsOnly ? g.node('Gather', [x, g.intScalar(`${tag}_cls`, 0)], { axis: 1 }) : x2;
  const qShape = clsOnly
    ? g.node(
        'Concat',
        [g.node('Slice', [bsShape, g.ints(`${tag}_z1`, [0]), g.ints(`${tag}_one_i`, [1])]), g.ints(`${tag}_qheads`, [1, -1, cfg.headDim])],
        {
          axis: 0,
        },
      )
    : headShape;
  const q = heads(xq, qShape, w.wq, w.bq, [0, 2, 1, 3]);
  const k = heads(x2, headShape, w.wk, w.bk, [0, 2, 3, 1]);
  const v = heads(x2, headShape, w.wv, w.bv, [0, 2, 1, 3]);
  const scores = g.node('Div', [g.node('MatMul', [q.t, k.t]), g.scalar(`${tag}_sqrt_d`, Math.sqrt(cfg.headDim))]);
  const probs = g.node('Softmax', [g.node('Add', [scores, bias])], { axis: -1 });
  const ctx = g.node('Transpose', [g.node('MatMul', [probs, v.t])], { perm: [0, 2, 1, 3] });
  const ctx2 = g.node('Reshape', [ctx, g.node('Shape', [q.proj])]);
  const attn = g.node('Gemm', [ctx2, w.wo, w.bo]);
  const ln1 = g.node('LayerNormalization', [g.node('Add', [xq, attn]), w.ln1g, w.ln1b], { axis: -1, epsilon: { float: cfg.eps } });
  const f = g.node('Gemm', [ln1, w.wi, w.bi], { transB: 1 });
  // GELU, erf form as in BERT: x * 0.5 * (1 + erf(x / sqrt 2)).
  const erf = g.node('Erf', [g.node('Div', [f, g.scalar(`${tag}_sqrt2`, Math.SQRT2)])]);
  const gelu = g.node('Mul', [g.node('Mul', [f, g.scalar(`${tag}_half`, 0.5)]), g.node('Add', [erf, g.scalar(`${tag}_one`, 1)])]);
  const o = g.node('Gemm', [gelu, w.wout, w.bout]);
  const ln2 = g.node('LayerNormalization', [g.node('Add', [ln1, o]), w.ln2g, w.ln2b], { axis: -1, epsilon: { float: cfg.eps } });
  return clsOnly ? g.node('Unsqueeze', [ln2, g.ints(`${tag}_axis1`, [1])]) : g.node('Reshape', [ln2, g.node('Shape', [x])]);
}

function addHead(g: GraphBuilder, cfg: BertConfig, w: BaseWeights, x: string): string {
  const H = cfg.hidden;
  const cls = g.node('Gather', [x, g.intScalar('cls_index', 0)], { axis: 1 });
  const pooled = g.node('Tanh', [
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
function partDims(cfg: BertConfig, part: LayerPart, m: number | 'm'): (number | string)[] {
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

export function embeddingGraph(cfg: BertConfig, w: BaseWeights): Uint8Array {
  const g = new GraphBuilder('bert_embeddings');
  const { x, bias } = addEmbeddings(g, cfg, w, g.input('input_ids', ['batch', 'seq'], INT64), g.input('attention_mask', ['batch', 'seq']));
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
export function stackedGraph(cfg: BertConfig, w: BaseWeights, n: number): Uint8Array {
  const g = new GraphBuilder(`bert_stacked_${n}`);
  const emb = addEmbeddings(g, cfg, w, g.input('input_ids', ['batch', 'seq'], INT64), g.input('attention_mask', ['batch', 'seq']));
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
