import type { BertConfig } from './config.js';
import { LAYER_PARTS, partLength, type LayerPart, type LayerWeights } from './weights.js';

/** One part of a slice: which layer array it lives in and how many floats of it the slice owns. */
export interface SlicePart {
  part: LayerPart;
  length: number;
  /** Matrices are quantized; biases stay fp32 inside the shard. */
  kind: 'matrix' | 'bias';
}

/**
 * What a shard holds: for one head, its Q/K/V rows and biases and its attention-output rows; for its
 * FFN share, the FFN-in rows and biases and the FFN-out rows. Everything else is shared by the layer.
 */
export function sliceParts(cfg: BertConfig): SlicePart[] {
  return LAYER_PARTS.filter((p) => p.unit !== 'shared').map((p) => ({
    part: p.part,
    length: partLength(cfg, p.unit, p.rowLength),
    kind: p.rowLength === 'hidden' ? 'matrix' : 'bias',
  }));
}

export const SHARED_PARTS: LayerPart[] = LAYER_PARTS.filter((p) => p.unit === 'shared').map((p) => p.part);

export function sliceCounts(cfg: BertConfig): { weights: number; biases: number } {
  const parts = sliceParts(cfg);
  const sum = (k: SlicePart['kind']) => parts.filter((p) => p.kind === k).reduce((n, p) => n + p.length, 0);
  return { weights: sum('matrix'), biases: sum('bias') };
}

/** Where each part of a slice sits inside the shard's matrix values or its biases. */
function sliceOffsets(cfg: BertConfig): (SlicePart & { offset: number })[] {
  const next = { matrix: 0, bias: 0 };
  return sliceParts(cfg).map((p) => {
    const offset = next[p.kind];
    next[p.kind] += p.length;
    return { ...p, offset };
  });
}

/** Gathers slice s of a layer: its matrix values (concatenated in part order) and its biases. */
export function gatherSlice(cfg: BertConfig, w: LayerWeights, s: number): { weights: Float32Array; biases: Float32Array } {
  const counts = sliceCounts(cfg);
  const out = { matrix: new Float32Array(counts.weights), bias: new Float32Array(counts.biases) };
  for (const p of sliceOffsets(cfg)) out[p.kind].set(w[p.part].subarray(s * p.length, (s + 1) * p.length), p.offset);
  return { weights: out.matrix, biases: out.bias };
}

/** The inverse of gatherSlice: writes a slice's values into the layer's arrays at slice s. */
export function scatterSlice(cfg: BertConfig, w: LayerWeights, s: number, weights: Float32Array, biases: Float32Array): void {
  const src = { matrix: weights, bias: biases };
  for (const p of sliceOffsets(cfg)) w[p.part].set(src[p.kind].subarray(p.offset, p.offset + p.length), s * p.length);
}

/** Zeroed fp32 buffers for a whole layer, to be filled slice by slice. */
export function emptyLayer(cfg: BertConfig): LayerWeights {
  const out = {} as LayerWeights;
  for (const p of LAYER_PARTS)
    out[p.part] = new Float32Array(p.unit === 'shared' ? cfg.hidden : cfg.slices * partLength(cfg, p.unit, p.rowLength));
  return out;
}
