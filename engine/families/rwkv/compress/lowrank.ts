/**
 * RWKV-edge's low-rank projections (rwkv-edge.md §3.1): a D×D projection W factored at rank r = D/f by a
 * truncated SVD, W ≈ W₂·W₁ with √Σ split across both factors: W₁ = Σ_r^½·V_rᵀ (r, in) and
 * W₂ = U_r·Σ_r^½ (out, r). Two kinds:
 *
 * - `linear` (the paper's x058): y = W₂·W₁·x. At initialisation it is the best rank-r approximation of W
 *   (Eckart–Young), so its error is the norm of the discarded singular values.
 * - `relu2` (x059): y = W₂·relu(W₁·x)² + d⊙x, with a learnt diagonal skip d (initialised uniform ±1e-4).
 *   The SVD factors are only its initialisation: the squared ReLU makes it a different function, so an
 *   x059 model is NOT function-preserving until it is continually trained (§3.1).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

export type LowRankKind = 'linear' | 'relu2';

/** The factors of one matrix W (out, in), row-major. */
export interface LowRankFactors {
  rows: number;
  cols: number;
  rank: number;
  /** Σ_r^½·V_rᵀ: (rank, cols). */
  w1: Float32Array;
  /** U_r·Σ_r^½: (rows, rank). */
  w2: Float32Array;
  /** Every singular value of W, descending (what the truncation kept and dropped). */
  singular: number[];
}

/** The rank RWKV-edge uses for width D at factor f: D/f, at least 1. */
export function rankFor(embd: number, factor: number): number {
  return Math.max(1, Math.round(embd / factor));
}

/** Factors a row-major (rows, cols) matrix at `rank` (at most min(rows, cols)). */
export function factorise(w: ArrayLike<number>, rows: number, cols: number, rank: number): LowRankFactors {
  if (w.length !== rows * cols) throw new Error(`factorise: ${w.length} values for a ${rows}×${cols} matrix`);
  const r = Math.min(rank, rows, cols);
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, w[i * cols + j]);
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  const s = svd.diagonal;
  const w1 = new Float32Array(r * cols);
  const w2 = new Float32Array(rows * r);
  for (let k = 0; k < r; k++) {
    const root = Math.sqrt(s[k]);
    for (let j = 0; j < cols; j++) w1[k * cols + j] = root * v.get(j, k);
    for (let i = 0; i < rows; i++) w2[i * r + k] = u.get(i, k) * root;
  }
  return { rows, cols, rank: r, w1, w2, singular: [...s] };
}

/** W₂·W₁ (rows, cols), accumulated in float64. */
export function reconstruct(f: LowRankFactors): Float32Array {
  const out = new Float32Array(f.rows * f.cols);
  const row = new Float64Array(f.cols);
  for (let i = 0; i < f.rows; i++) {
    row.fill(0);
    for (let k = 0; k < f.rank; k++) {
      const a = f.w2[i * f.rank + k];
      for (let j = 0; j < f.cols; j++) row[j] += a * f.w1[k * f.cols + j];
    }
    out.set(row, i * f.cols);
  }
  return out;
}

/** How far an approximation is from W: the relative Frobenius error and the largest element error. */
export interface ApproxError {
  relFrobenius: number;
  maxAbs: number;
}

export function approxError(w: ArrayLike<number>, approx: ArrayLike<number>): ApproxError {
  let diff = 0;
  let norm = 0;
  let maxAbs = 0;
  for (let i = 0; i < w.length; i++) {
    const d = w[i] - approx[i];
    diff += d * d;
    norm += w[i] * w[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { relFrobenius: norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff), maxAbs };
}

/** Eckart–Young: the Frobenius error of the best rank-r approximation, from the singular values. */
export function tailNorm(singular: readonly number[], rank: number): number {
  return Math.sqrt(singular.slice(rank).reduce((a, s) => a + s * s, 0));
}

/** The factors cut to a lower rank: the first `rank` components (one SVD serves every rank). */
export function truncate(f: LowRankFactors, rank: number): LowRankFactors {
  const r = Math.min(rank, f.rank);
  const w2 = new Float32Array(f.rows * r);
  for (let i = 0; i < f.rows; i++) w2.set(f.w2.subarray(i * f.rank, i * f.rank + r), i * r);
  return { ...f, rank: r, w1: f.w1.slice(0, r * f.cols), w2 };
}
