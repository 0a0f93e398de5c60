/**
 * RWKV-edge's memory accounting (rwkv-edge.md §4): the bytes of weights resident in DRAM while decoding,
 * by category, for the dense model and with a setting of the techniques. Per layer: attention's five
 * projections (r, k, v, g low-rank at D/f; output dense), channel-mix receptance (low-rank), FFN key and
 * value at the fraction of rows the predictors load, and the predictors themselves (a b-bit copy of the
 * key matrix plus the MLP D→64→F); the head as its first level (K×D) plus the touched clusters' rows; the
 * embedding as the cached rows. Statistics measured elsewhere (FFN density, head fraction touched) come in
 * as inputs that carry their source. The recurrent state is reported apart: the paper counts weights.
 */
import { expectedShapes } from '../weights.js';
import type { RwkvDims } from '../presets.js';
import { int8Bytes } from './int8.js';
import { rankFor } from './lowrank.js';

export type Dtype = 'fp32' | 'fp16';
export const DTYPE_BYTES: Record<Dtype, number> = { fp32: 4, fp16: 2 };

/** A number measured elsewhere, or assumed, with where it comes from. */
export interface Statistic<T> {
  value: T;
  source: string;
}

export interface Techniques {
  lowrank?: { factor: number };
  /**
   * Predicted FFN density: the fraction of FFN key rows / value columns loaded, one for all layers or one
   * per layer; the key copy's bits (0: none) and the MLP's hidden width (0: none).
   */
  sparseFfn?: { density: Statistic<number | number[]>; predictorBits: number; mlpHidden: number };
  clusterHead?: { clusters: number; touched: Statistic<number> };
  embCache?: { rows: number };
  /** Every matrix but the embedding as uint8 with per-row and per-column offsets and scales (§3.5). */
  int8?: boolean;
}

export const CATEGORIES = ['attention', 'ffnKeyValue', 'ffnReceptance', 'predictors', 'head', 'embedding', 'vectors'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface MemoryAccount {
  dtype: Dtype;
  byCategory: Record<Category, { dense: number; resident: number }>;
  denseBytes: number;
  residentBytes: number;
  /** denseBytes / residentBytes: how many times less memory. */
  ratio: number;
  /** The recurrent state, fp32 (S must stay fp32, §2.3): L·(2D + H·N²) floats for v5, 5·L·D for v4. */
  stateBytes: number;
}

/** The category a tensor of the normalised form belongs to. */
export function categoryOf(name: string): Category {
  if (name === 'emb.weight') return 'embedding';
  if (name === 'head.weight') return 'head';
  if (/\.att\.(receptance|key|value|gate|output)\.weight$/.test(name)) return 'attention';
  if (/\.ffn\.(key|value)\.weight$/.test(name)) return 'ffnKeyValue';
  if (name.endsWith('.ffn.receptance.weight')) return 'ffnReceptance';
  return 'vectors';
}

const LOWRANK = /\.(att\.(receptance|key|value|gate)|ffn\.receptance)\.weight$/;

/** Resident bytes of a model's shape under a setting of the techniques (none: the dense model). */
export function memoryAccount(dims: RwkvDims, dtype: Dtype, t: Techniques = {}): MemoryAccount {
  const b = DTYPE_BYTES[dtype];
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, { dense: 0, resident: 0 }])) as MemoryAccount['byCategory'];
  const matrix = (rows: number, cols: number, fraction = 1) =>
    t.int8 ? int8Bytes(rows, cols, b) - (1 - fraction) * rows * cols : fraction * rows * cols * b;
  for (const [name, shape] of expectedShapes(dims)) {
    const c = categoryOf(name);
    const size = shape.reduce((x, y) => x * y, 1);
    byCategory[c].dense += size * b;
    byCategory[c].resident += residentBytes(name, shape, c, dims, t, matrix, b);
  }
  if (t.sparseFfn) byCategory.predictors.resident = dims.layers * predictorBytes(dims, t.sparseFfn, matrix, b);
  const denseBytes = CATEGORIES.reduce((s, c) => s + byCategory[c].dense, 0);
  const resident = CATEGORIES.reduce((s, c) => s + byCategory[c].resident, 0);
  return { dtype, byCategory, denseBytes, residentBytes: resident, ratio: denseBytes / resident, stateBytes: stateBytes(dims) };
}

type MatrixBytes = (rows: number, cols: number, fraction?: number) => number;

function residentBytes(name: string, shape: number[], c: Category, dims: RwkvDims, t: Techniques, matrix: MatrixBytes, b: number): number {
  const [rows, cols] = shape;
  if (c === 'vectors') return shape.reduce((x, y) => x * y, 1) * b;
  if (c === 'embedding') return (t.embCache ? Math.min(t.embCache.rows, dims.vocab) : dims.vocab) * dims.embd * b;
  if (c === 'head' && t.clusterHead) return matrix(t.clusterHead.clusters, cols) + matrix(rows, cols, t.clusterHead.touched.value);
  if (c === 'ffnKeyValue' && t.sparseFfn) return matrix(rows, cols, densityOf(t.sparseFfn.density.value, layerOf(name)));
  if (t.lowrank && LOWRANK.test(name)) {
    const r = rankFor(dims.embd, t.lowrank.factor);
    return matrix(r, cols) + matrix(rows, r);
  }
  return matrix(rows, cols);
}

/** One layer's predictors: the packed b-bit copy of the FFN key matrix (min and scale aside) and the MLP. */
function predictorBytes(dims: RwkvDims, p: NonNullable<Techniques['sparseFfn']>, matrix: MatrixBytes, b: number): number {
  const packed = p.predictorBits ? (dims.ffn * dims.embd * p.predictorBits) / 8 + 2 * b : 0;
  return packed + (p.mlpHidden ? matrix(p.mlpHidden, dims.embd) + matrix(dims.ffn, p.mlpHidden) : 0);
}

function stateBytes(dims: RwkvDims): number {
  const perLayer = dims.version === '4' ? 5 * dims.embd : 2 * dims.embd + dims.heads * dims.headSize * dims.headSize;
  return 4 * dims.layers * perLayer;
}

const layerOf = (name: string) => Number(/^blocks\.(\d+)\./.exec(name)![1]);
const densityOf = (d: number | number[], layer: number) => (Array.isArray(d) ? d[layer] : d);
