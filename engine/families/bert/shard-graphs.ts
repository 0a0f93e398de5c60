/**
 * Graphs for profiling shards one at a time (importance.ts). A shard's layer differs from the reference's
 * layer in one head and one FFN slice. The head reaches the rest of the layer only through the attention
 * output projection, attn = Σ_h ctx_h·Wo_h + bo, so the shard's layer reuses the reference's attn and
 * context on the same batch, takes out the head's term and puts in the shard's:
 *
 *   attn' = attn − ctx_s·Wo_s(reference) + ctx'_s·Wo_s(shard)
 *
 * running attention for that one head alone. After it, the LayerNorm of the new residual changes every
 * row, so the FFN (with the shard's slice in place) and every later layer run whole.
 */
import { GraphBuilder, INT64 } from '../../core/onnx-graph.js';
import type { BertConfig } from './config.js';
import {
  addContext,
  addFfn,
  addHead,
  addLayerNodes,
  addLayerOut,
  partDims,
  stackedInput,
  type AttentionNames,
  type FfnNames,
  type LayerNames,
} from './graphs.js';
import { LAYER_PARTS, type BaseWeights, type LayerPart } from './weights.js';

/** The parts of a layer that belong to one head. */
export const HEAD_PARTS = ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo'] as const;
export type HeadPart = (typeof HEAD_PARTS)[number];

/** The parts of a layer a shard's layer runs whole (its FFN, with the shard's slice, and the shared LayerNorms). */
export const FFN_PARTS = ['ln1g', 'ln1b', 'wi', 'bi', 'wout', 'bout', 'ln2g', 'ln2b'] as const satisfies readonly (keyof FfnNames)[];

/** Input name of the shard's head part (its rows in the shard's weights). */
export function headInput(part: HeadPart): string {
  return `shard_${part}`;
}

/** Input name of the reference's output-projection rows of the shard's head. */
export const REFERENCE_WO = 'reference_wo';

/**
 * One encoder layer of the reference, with what a shard in it reuses as outputs besides `out`: `attn`
 * (the output projection with its bias, before the residual) and `ctx` (every head's context before it),
 * both [rows, hidden] with rows = batch × seq, or batch alone with `clsOnly`.
 */
export function referenceLayerGraph(cfg: BertConfig, clsOnly: boolean): Uint8Array {
  const g = new GraphBuilder(clsOnly ? 'bert_reference_layer_cls' : 'bert_reference_layer');
  const x = g.input('hidden', ['batch', 'seq', cfg.hidden]);
  const bias = g.input('mask_bias', ['batch', 1, 1, 'seq']);
  const names = {} as LayerNames;
  for (const { part } of LAYER_PARTS) names[part] = g.input(part, partDims(cfg, part, 'm'));
  const nodes = addLayerNodes(g, cfg, x, bias, names, 'l', clsOnly);
  for (const name of ['out', 'attn', 'ctx'] as const) g.node('Identity', [nodes[name]], {}, name);
  g.output('out', ['batch', clsOnly ? 1 : 'seq', cfg.hidden]);
  g.output('attn', ['rows', cfg.hidden]);
  g.output('ctx', ['rows', cfg.hidden]);
  return g.toBytes();
}

/**
 * A shard's layer, then the n − 1 reference layers after it (the last for the CLS row only) and the head:
 * logits from the reference's input, attn and ctx of the shard's layer. With n = 1 the shard's layer is
 * the last and computes the CLS row only. Inputs: hidden, mask_bias, attn_ref and ctx_ref (as
 * referenceLayerGraph gives them), head_start/head_end (the head's columns of ctx_ref), the head's parts
 * (headInput) and REFERENCE_WO, the shard's layer's FFN parts as stackedInput(0, part), and the later
 * layers' parts as stackedInput(l, part).
 */
export function shardTailGraph(cfg: BertConfig, w: BaseWeights, n: number): Uint8Array {
  const g = new GraphBuilder(`bert_shard_tail_${n}`);
  const x = g.input('hidden', ['batch', 'seq', cfg.hidden]);
  const bias = g.input('mask_bias', ['batch', 1, 1, 'seq']);
  const attnRef = g.input('attn_ref', ['rows', cfg.hidden]);
  const ctxRef = g.input('ctx_ref', ['rows', cfg.hidden]);
  const [start, end] = [g.input('head_start', [1], INT64), g.input('head_end', [1], INT64)];
  const head = {} as Record<HeadPart, string>;
  for (const part of HEAD_PARTS) head[part] = g.input(headInput(part), partDims(cfg, part, 1));
  const refWo = g.input(REFERENCE_WO, partDims(cfg, 'wo', 1));
  const ffn = {} as FfnNames;
  for (const part of FFN_PARTS) ffn[part] = g.input(stackedInput(0, part), partDims(cfg, part, 'm'));

  const clsOnly = n === 1;
  const { xq, ctx } = addContext(g, cfg, x, bias, head as AttentionNames, 's', clsOnly);
  const refTerm = g.node('MatMul', [g.node('Slice', [ctxRef, start, end, g.ints('s_cols', [1])]), refWo]);
  const attn = g.node('Add', [g.node('Sub', [attnRef, refTerm]), g.node('MatMul', [ctx, head.wo])]);
  let out = addLayerOut(g, x, addFfn(g, cfg, xq, attn, ffn, 's'), 's', clsOnly);
  for (let l = 1; l < n; l++) {
    const names = {} as LayerNames;
    for (const { part } of LAYER_PARTS) names[part] = g.input(stackedInput(l, part), partDims(cfg, part as LayerPart, 'm'));
    out = addLayerNodes(g, cfg, out, bias, names, `l${l}`, l === n - 1).out;
  }
  addHead(g, cfg, w, out);
  g.output('logits', ['batch', cfg.labels.length]);
  return g.toBytes();
}
