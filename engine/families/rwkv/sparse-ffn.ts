/**
 * RWKV-edge's sparsity-aware FFN (rwkv-edge.md §3.2): channel-mix's relu(Wk·xk)² is mostly zero, so a
 * predictor guesses per token which rows of the key matrix (and columns of the value matrix) matter and
 * only those are loaded. Here the predictor is the b-bit copy of Wk (per-tensor asymmetric min-max): its
 * scores ŝ = Ŵk·xk, and a neuron is predicted active when its score is among the top (1 − q) of the
 * token's F scores (q the layer's quantile). The step graph computes the dense FFN and masks it, as the
 * paper's reference does, and reports per layer the true and predicted active counts and their overlap.
 */
import { UserError } from '../../core/errors.js';

export interface QuantPredictor {
  /** Bits of the quantized key-matrix copy. */
  bits: 1 | 2 | 4;
  /** Per-layer quantile of the scores below which neurons are predicted inactive (one value: every layer). */
  quantile: number[];
}

export interface SparseFfn {
  quant: QuantPredictor;
}

/** The paper's released setting (§3.6): a 1-bit copy, quantile 0.95 in every layer. */
export const PAPER_QUANT_PREDICTOR: QuantPredictor = { bits: 1, quantile: [0.95] };

/** Per-tensor asymmetric min-max quantization to b bits, dequantized (what the predictor multiplies by). */
export function quantizeCopy(w: Float32Array, bits: number): Float32Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of w) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const levels = 2 ** bits - 1;
  const scale = (max - min) / levels || 1;
  return w.map((v) => Math.min(levels, Math.max(0, Math.round((v - min) / scale))) * scale + min);
}

/** Neurons kept per token at quantile q of F scores (at least one). */
export function keptNeurons(ffn: number, quantile: number): number {
  return Math.max(1, Math.round((1 - quantile) * ffn));
}

export function layerQuantile(p: QuantPredictor, layer: number): number {
  return p.quantile[Math.min(layer, p.quantile.length - 1)]!;
}

/**
 * `--predictor quant:B:Q[/Q2/…]`: B bits (1, 2 or 4), quantile Q for every layer or one per layer
 * separated by '/'. (The paper's MLP predictor, `mlp:θ`, needs trained predictors: not yet here.)
 */
export function parsePredictor(value: string): SparseFfn {
  const parts = value.split(',').map((s) => s.trim());
  let quant: QuantPredictor | undefined;
  for (const part of parts) {
    const [kind, ...args] = part.split(':');
    if (kind === 'mlp')
      throw new UserError('--predictor mlp:θ needs MLP predictors trained on the model (not built yet); use quant:B:Q, e.g. quant:1:0.95');
    if (kind !== 'quant' || args.length !== 2)
      throw new UserError(`--predictor "${part}": use quant:B:Q, e.g. quant:1:0.95 (B bits 1, 2 or 4; Q a quantile)`);
    const bits = Number(args[0]);
    if (bits !== 1 && bits !== 2 && bits !== 4) throw new UserError(`--predictor "${part}": the quantized copy takes 1, 2 or 4 bits`);
    const quantile = args[1]!.split('/').map(Number);
    if (!quantile.every((q) => q >= 0 && q < 1))
      throw new UserError(`--predictor "${part}": quantiles are numbers from 0 up to (not including) 1`);
    quant = { bits, quantile };
  }
  if (!quant) throw new UserError('--predictor needs quant:B:Q');
  return { quant };
}
