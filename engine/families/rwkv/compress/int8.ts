/**
 * RWKV-edge's INT8 (rwkv-edge.md §3.5): the rwkv pip package's "fp16i8" scheme, a uint8 per weight with a
 * per-row and a per-column offset and scale. Encoding, in the pip package's order:
 *
 * 1. subtract the per-row minimum `my` and the per-column minimum `mx` (rows first when there are more
 *    rows than columns, else columns first; each minimum is taken after the first subtraction);
 * 2. divide by the per-column maximum `rx`, then by the per-row maximum `ry` (so w′ ∈ [0, 1]);
 * 3. q = clip(⌊256·w′⌋, 0, 255).
 *
 * Decoding is ŵ = (q + 0.5)·(rx/16)·(ry/16) + my + mx; rx and ry are stored already divided by 16.
 * Since |w′ − (q + 0.5)/256| ≤ 1/512, every element's error is at most rx·ry/512 (see int8ErrorBound).
 * The pip package quantizes each linear layer's weight transposed, as (in, out) (it computes x @ W):
 * encodeLinearInt8 does the same, so its codes, offsets and scales are the package's.
 */

/** A matrix (rows, cols), row-major, as uint8 codes with per-row and per-column offsets and scales. */
export interface Int8Matrix {
  rows: number;
  cols: number;
  q: Uint8Array;
  /** Per-row minimum (rows). */
  my: Float32Array;
  /** Per-column minimum (cols). */
  mx: Float32Array;
  /** Per-row maximum divided by 16 (rows). */
  ry: Float32Array;
  /** Per-column maximum divided by 16 (cols). */
  rx: Float32Array;
}

/** Encodes a row-major (rows, cols) matrix. */
export function encodeInt8(w: ArrayLike<number>, rows: number, cols: number): Int8Matrix {
  if (w.length !== rows * cols) throw new Error(`encodeInt8: ${w.length} values for a ${rows}×${cols} matrix`);
  const a = Float64Array.from(w);
  let my: Float64Array;
  let mx: Float64Array;
  if (rows > cols) {
    my = subtractRowMin(a, rows, cols);
    mx = subtractColMin(a, rows, cols);
  } else {
    mx = subtractColMin(a, rows, cols);
    my = subtractRowMin(a, rows, cols);
  }
  const rx = divideByColMax(a, rows, cols);
  const ry = divideByRowMax(a, rows, cols);
  const q = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) q[i] = Math.min(255, Math.max(0, Math.floor(256 * a[i])));
  const by16 = (v: Float64Array) => Float32Array.from(v, (x) => x / 16);
  return { rows, cols, q, my: Float32Array.from(my), mx: Float32Array.from(mx), ry: by16(ry), rx: by16(rx) };
}

/** The matrix an encoding stands for, row-major, as the pip package's decode computes it. */
export function decodeInt8(m: Int8Matrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++)
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = (m.q[i * m.cols + j] + 0.5) * m.rx[j] * m.ry[i] + m.my[i] + m.mx[j];
  return out;
}

/** A PyTorch linear weight (out, in) encoded as the pip package does: transposed, as (in, out). */
export function encodeLinearInt8(w: ArrayLike<number>, out: number, inputs: number): Int8Matrix {
  return encodeInt8(transpose(w, out, inputs), inputs, out);
}

/** The (out, in) weight an encodeLinearInt8 encoding stands for. */
export function decodeLinearInt8(m: Int8Matrix): Float32Array {
  return transpose(decodeInt8(m), m.rows, m.cols);
}

/** A row-major (rows, cols) matrix transposed to (cols, rows). */
export function transpose(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j];
  return out;
}

/** The most one element (i, j) can be off after a round trip: rx·ry/512 (with rx, ry undivided). */
export function int8ErrorBound(m: Int8Matrix, i: number, j: number): number {
  return (256 * m.rx[j] * m.ry[i]) / 512;
}

/** Bytes an encoding occupies: one per weight, plus four vectors of offsets and scales at `scaleBytes` each. */
export function int8Bytes(rows: number, cols: number, scaleBytes: number): number {
  return rows * cols + 2 * (rows + cols) * scaleBytes;
}

function subtractRowMin(a: Float64Array, rows: number, cols: number): Float64Array {
  const m = new Float64Array(rows).fill(Infinity);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i] = Math.min(m[i], a[i * cols + j]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[i * cols + j] -= m[i];
  return m;
}

function subtractColMin(a: Float64Array, rows: number, cols: number): Float64Array {
  const m = new Float64Array(cols).fill(Infinity);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[j] = Math.min(m[j], a[i * cols + j]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[i * cols + j] -= m[j];
  return m;
}

// A column or row of zeros (after the offsets) keeps scale 0 and codes 0, so it decodes exactly; the pip
// package divides by 1 there instead, with the same codes and result.
function divideByColMax(a: Float64Array, rows: number, cols: number): Float64Array {
  const m = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[j] = Math.max(m[j], a[i * cols + j]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[i * cols + j] = m[j] > 0 ? a[i * cols + j] / m[j] : 0;
  return m;
}

function divideByRowMax(a: Float64Array, rows: number, cols: number): Float64Array {
  const m = new Float64Array(rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i] = Math.max(m[i], a[i * cols + j]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[i * cols + j] = m[i] > 0 ? a[i * cols + j] / m[i] : 0;
  return m;
}
