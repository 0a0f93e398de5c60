/**
 * An RWKV model's weights in one normalised form, whichever file they came from (rwkv.cpp's .bin, or the
 * project's model directory), so the step graph is built from one shape of data.
 */
import { UserError } from '../../core/errors.js';
import type { Tensor } from '../../core/safetensors.js';

export type RwkvVersion = '4' | '5.1' | '5.2';

/**
 * Tensors by their official RWKV-LM names, fp32, PyTorch shapes (matrices (out, in); the token-shift
 * mixes `time_mix_*` squeezed to (D)), with ONE convention for the WKV parameters of every version:
 *
 * - `att.time_decay` holds w = −exp(raw time_decay): the natural log of the per-token decay factor
 *   (always < 0). v4: shape (D), used as is (added to the running exponent max). v5: shape (H, N), one
 *   value per key channel (rwkv.cpp's "5.1" per-head values broadcast over N); the decay factor is exp(w).
 * - `att.time_first` holds the bonus u as the version's WKV uses it. v4: shape (D), raw time_first,
 *   added to k in the exponent. v5: shape (H, N), multiplied with k·v: 5.2's raw `time_faaaa`, or
 *   exp(raw time_first) for "5.1". There is no `att.time_faaaa` in this form.
 *
 * "5.1" is rwkv.cpp's label: v5 without the gate (the official pip package calls that layout 5.0).
 */
export interface RwkvWeights {
  version: RwkvVersion;
  layers: number;
  embd: number;
  /** Heads H and head size N (v4: 1 and D, unused). */
  heads: number;
  headSize: number;
  ffn: number;
  vocab: number;
  /** The v5 output GroupNorm's eps (rwkv.cpp's v5: 1e-5; models trained with head_size_divisor 8: 64e-5). */
  groupNormEps: number;
  /** RWKV-edge's low-rank projections (lowrank-model.ts), when the model is factored. */
  lowrank?: LowRankShape;
  tensors: Map<string, Tensor>;
}

/**
 * A factored model: every projection of LOWRANK_PROJECTIONS is `<p>1.weight` (rank, in) then
 * `<p>2.weight` (out, rank), and for relu2 `<p>_diag` (out): y = W₂·relu(W₁x)² + d⊙x (x059), or
 * y = W₂·W₁x (linear, x058).
 */
export interface LowRankShape {
  factor: number;
  rank: number;
  kind: 'linear' | 'relu2';
}

/** The projections RWKV-edge factors, by their name inside a block (§3.1). */
export const LOWRANK_PROJECTIONS = ['att.receptance', 'att.key', 'att.value', 'att.gate', 'ffn.receptance'] as const;

/** Every LayerNorm of RWKV uses this eps (biased variance). */
export const LAYER_NORM_EPS = 1e-5;

/** The shape of each tensor of a layer in the normalised form. */
function layerShapes(w: Pick<RwkvWeights, 'version' | 'embd' | 'heads' | 'headSize' | 'ffn' | 'lowrank'>): Record<string, number[]> {
  const { embd: D, ffn: F } = w;
  const v4 = w.version === '4';
  const wkv = v4 ? [D] : [w.heads, w.headSize];
  const s: Record<string, number[]> = {
    'ln1.weight': [D],
    'ln1.bias': [D],
    'ln2.weight': [D],
    'ln2.bias': [D],
    'att.time_mix_k': [D],
    'att.time_mix_v': [D],
    'att.time_mix_r': [D],
    'att.time_decay': wkv,
    'att.time_first': wkv,
    'att.receptance.weight': [D, D],
    'att.key.weight': [D, D],
    'att.value.weight': [D, D],
    'att.output.weight': [D, D],
    'ffn.time_mix_k': [D],
    'ffn.time_mix_r': [D],
    'ffn.key.weight': [F, D],
    'ffn.receptance.weight': [D, D],
    'ffn.value.weight': [D, F],
  };
  if (!v4) Object.assign(s, { 'att.ln_x.weight': [D], 'att.ln_x.bias': [D] });
  if (w.version === '5.2') Object.assign(s, { 'att.time_mix_g': [D], 'att.gate.weight': [D, D] });
  if (w.lowrank) {
    const r = w.lowrank.rank;
    for (const p of LOWRANK_PROJECTIONS) {
      if (!s[`${p}.weight`]) continue; // v4 and 5.1 have no gate
      delete s[`${p}.weight`];
      s[`${p}1.weight`] = [r, D];
      s[`${p}2.weight`] = [D, r];
      if (w.lowrank.kind === 'relu2') s[`${p}_diag`] = [D];
    }
  }
  return s;
}

/** Every tensor name of the normalised form with its shape. */
export function expectedShapes(w: Omit<RwkvWeights, 'tensors' | 'groupNormEps'>): Map<string, number[]> {
  const { embd: D, vocab: V } = w;
  const out = new Map<string, number[]>([
    ['emb.weight', [V, D]],
    ['blocks.0.ln0.weight', [D]],
    ['blocks.0.ln0.bias', [D]],
  ]);
  const per = layerShapes(w);
  for (let i = 0; i < w.layers; i++) for (const [k, s] of Object.entries(per)) out.set(`blocks.${i}.${k}`, s);
  out.set('ln_out.weight', [D]);
  out.set('ln_out.bias', [D]);
  out.set('head.weight', [V, D]);
  return out;
}

/** Checks that the normalised tensors are exactly the expected ones; `file` names the source in errors. */
export function checkWeights(w: RwkvWeights, file: string): RwkvWeights {
  for (const [name, shape] of expectedShapes(w)) {
    const t = w.tensors.get(name);
    if (!t) throw new UserError(`${file}: tensor ${name} is missing; an RWKV ${w.version} model needs it`);
    if (squeezed(t.shape) !== squeezed(shape) || t.data.length !== shape.reduce((a, b) => a * b, 1))
      throw new UserError(`${file}: tensor ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    t.shape = shape;
  }
  return w;
}

/** A shape without its 1s, as text: (1, 1, D) and (D) are the same vector. */
const squeezed = (shape: number[]) => shape.filter((d) => d !== 1).join(',');

/** Applies `f` to every element into a new array (computed in float64, stored as float32). */
export function mapFloats(a: Float32Array, f: (x: number) => number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
  return out;
}

/** A per-head vector (H values) repeated over each head's N channels, giving (H, N). */
export function perChannel(perHead: Float32Array, heads: number, headSize: number): Float32Array {
  const out = new Float32Array(heads * headSize);
  for (let h = 0; h < heads; h++) out.fill(perHead[h], h * headSize, (h + 1) * headSize);
  return out;
}

/** Sizes of a weight set, for messages and benchmarks. */
export function describe(w: RwkvWeights): string {
  const heads = w.version === '4' ? '' : `, ${w.heads} heads × ${w.headSize}`;
  const lowrank = w.lowrank ? `, low-rank ${w.lowrank.kind} at rank ${w.lowrank.rank}` : '';
  return `RWKV ${w.version}: ${w.layers} layers, D ${w.embd}${heads}, FFN ${w.ffn}, vocab ${w.vocab}${lowrank}`;
}
