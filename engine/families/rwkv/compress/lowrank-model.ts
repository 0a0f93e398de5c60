/**
 * A low-rank RWKV model's weights: every projection RWKV-edge factors (time-mix receptance, key, value,
 * gate; channel-mix receptance) replaced by its two SVD factors. The layout, per layer i and projection p
 * (`att.receptance`, `att.key`, `att.value`, `att.gate`, `ffn.receptance`):
 *
 * - `blocks.i.<p>1.weight`: W₁ (r, D), applied first;
 * - `blocks.i.<p>2.weight`: W₂ (D, r);
 * - `blocks.i.<p>_diag` (relu2 only): the diagonal skip d (D), uniform ±1e-4;
 *
 * and no `blocks.i.<p>.weight`. config.json says `"lowrank": {"factor", "rank", "kind"}`; the step graph
 * runs either kind (step-graph.ts).
 */
import type { Tensor } from '../../../core/safetensors.js';
import { writeModelDir } from '../model-dir.js';
import { uniform } from '../random-model.js';
import { LOWRANK_PROJECTIONS, type RwkvWeights } from '../weights.js';
import { approxError, factorise, rankFor, reconstruct, type LowRankKind } from './lowrank.js';

export { LOWRANK_PROJECTIONS };

export interface LowRankOptions {
  factor: number;
  kind: LowRankKind;
  /** Seed of the diagonal skip's initialisation (relu2). */
  seed?: number;
}

/** One factored projection: its rank, sizes and how well W₂·W₁ reproduces W. */
export interface FactoredProjection {
  layer: number;
  projection: string;
  rank: number;
  denseParams: number;
  factoredParams: number;
  relFrobenius: number;
  maxAbs: number;
}

export interface LowRankModel {
  /** The factored weights (their `lowrank` set); tensors not factored are shared with the dense model's. */
  weights: RwkvWeights;
  tensors: Map<string, Tensor>;
  projections: FactoredProjection[];
}

/** Factors a model's projections; the other tensors are shared with `w`, not copied. */
export function lowRankModel(w: RwkvWeights, opts: LowRankOptions): LowRankModel {
  if (w.lowrank) throw new Error('lowRankModel: the model is factored already');
  const rank = rankFor(w.embd, opts.factor);
  const next = uniform(opts.seed ?? 1);
  const tensors = new Map(w.tensors);
  const projections: FactoredProjection[] = [];
  for (let layer = 0; layer < w.layers; layer++) {
    for (const projection of LOWRANK_PROJECTIONS) {
      const name = `blocks.${layer}.${projection}`;
      const t = tensors.get(`${name}.weight`);
      if (!t) continue; // v4 and 5.1 have no gate
      const [rows, cols] = t.shape;
      const f = factorise(t.data, rows, cols, rank);
      tensors.delete(`${name}.weight`);
      tensors.set(`${name}1.weight`, { shape: [f.rank, cols], data: f.w1 });
      tensors.set(`${name}2.weight`, { shape: [rows, f.rank], data: f.w2 });
      if (opts.kind === 'relu2')
        tensors.set(`${name}_diag`, { shape: [rows], data: Float32Array.from({ length: rows }, () => (2 * next() - 1) * 1e-4) });
      const err = approxError(t.data, reconstruct(f));
      projections.push({ layer, projection, rank: f.rank, denseParams: rows * cols, factoredParams: f.w1.length + f.w2.length, ...err });
    }
  }
  const weights: RwkvWeights = { ...w, lowrank: { factor: opts.factor, rank, kind: opts.kind }, tensors };
  return { weights, tensors, projections };
}

/** Writes a low-rank model directory (config.json with its "lowrank" entry, model.safetensors). */
export function writeLowRankDir(dir: string, m: LowRankModel, opts: { f16?: boolean }): void {
  writeModelDir(dir, m.weights, { f16: opts.f16 });
}
