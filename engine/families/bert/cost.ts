/**
 * BERT's cost formulas for the generic cost model (soc/cost.ts): FLOPs and bytes of an encoder layer's
 * attention and FFN with m slices over seq tokens, each timed as a roofline, plus the per-layer overhead.
 */
import type { CostModel } from '../../soc/cost.js';

/** The dimensions of an encoder layer that cost depends on. */
export interface LayerShape {
  hidden: number;
  heads: number;
  headDim: number;
  /** FFN neurons per slice (intermediate / heads). */
  ffnPerSlice: number;
}

export interface LayerCost {
  attentionMs: number;
  ffnMs: number;
  overheadMs: number;
  totalMs: number;
  flops: number;
}

const FP32 = 4;

/** FLOPs and bytes moved by the attention and FFN parts of one layer with m slices over `seq` tokens. */
export function layerWork(s: LayerShape, m: number, seq: number) {
  const a = m * s.headDim; // attention width
  const f = m * s.ffnPerSlice; // FFN width
  const attentionFlops = 2 * seq * s.hidden * a * 3 + 2 * 2 * m * seq * seq * s.headDim + 2 * seq * a * s.hidden;
  const ffnFlops = 2 * 2 * seq * s.hidden * f;
  const attentionBytes = FP32 * (4 * a * s.hidden + 4 * seq * s.hidden + 3 * seq * a + 2 * m * seq * seq);
  const ffnBytes = FP32 * (2 * f * s.hidden + 2 * seq * s.hidden + 2 * seq * f);
  return { attentionFlops, ffnFlops, attentionBytes, ffnBytes };
}

/** fp32 bytes of one slice's weights (what a 32-bit shard holds, give or take its header). */
export function sliceWeightBytes(s: LayerShape): number {
  return FP32 * (4 * s.headDim * s.hidden + 3 * s.headDim + 2 * s.ffnPerSlice * s.hidden + s.ffnPerSlice);
}

/** fp32 bytes of a layer's weights with m slices, shared parts included (its buffers during compute). */
export function fp32LayerBytes(s: LayerShape, m: number): number {
  return m * sliceWeightBytes(s) + FP32 * 6 * s.hidden;
}

/** The modeled compute time of one layer with m slices over seq tokens. */
export function computeLayer(cost: CostModel, s: LayerShape, m: number, seq: number): LayerCost {
  const w = layerWork(s, m, seq);
  const attentionMs = cost.rooflineMs(w.attentionFlops, w.attentionBytes);
  const ffnMs = cost.rooflineMs(w.ffnFlops, w.ffnBytes);
  const overheadMs = cost.layerOverheadMs;
  return { attentionMs, ffnMs, overheadMs, totalMs: attentionMs + ffnMs + overheadMs, flops: w.attentionFlops + w.ffnFlops };
}
