/**
 * RWKV weights drawn at random for a given shape: for timing studies and for testing the loaders before a
 * trained model exists. Deterministic for a seed; scaled so activations stay in a sane range.
 */
import { expectedShapes, type RwkvVersion, type RwkvWeights } from './weights.js';

export interface RwkvShape {
  version: RwkvVersion;
  layers: number;
  embd: number;
  /** v5's head size (ignored for v4). */
  headSize: number;
  ffn: number;
  vocab: number;
  groupNormEps: number;
}

/** The shape of the project's fixture model (fixtures/models/rwkv5-en). */
export const FIXTURE_SHAPE: RwkvShape = { version: '5.2', layers: 6, embd: 256, headSize: 64, ffn: 896, vocab: 8192, groupNormEps: 64e-5 };

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The range a tensor's values are drawn from, by its name (normalised convention, weights.ts). */
function range(name: string, shape: number[]): [number, number] {
  if (shape.length === 2 && !name.includes('.time_')) {
    const a = Math.sqrt(3 / shape[1]); // unit variance out for unit variance in
    return name.startsWith('emb.') ? [-1, 1] : [-a, a];
  }
  if (name.endsWith('.time_decay')) return [-Math.exp(1), -Math.exp(-6)]; // −exp(raw), raw in [−6, 1]
  if (name.endsWith('.time_first')) return [-1, 1];
  if (name.includes('.time_mix_')) return [0, 1];
  if (name.endsWith('.weight')) return [0.9, 1.1]; // LayerNorm / GroupNorm scales
  return [-0.1, 0.1]; // their biases
}

export function randomWeights(shape: RwkvShape, seed = 1): RwkvWeights {
  const next = uniform(seed);
  const heads = shape.version === '4' ? 1 : shape.embd / shape.headSize;
  const dims = { ...shape, heads, headSize: shape.embd / heads };
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, s] of expectedShapes(dims)) {
    const [lo, hi] = range(name, s);
    const data = new Float32Array(s.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * next();
    tensors.set(name, { shape: s, data });
  }
  return { ...dims, tensors };
}
