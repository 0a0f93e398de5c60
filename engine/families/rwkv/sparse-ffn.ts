/**
 * RWKV-edge's sparsity-aware FFN (rwkv-edge.md §3.2): channel-mix's relu(Wk·xk)² is mostly zero, so a
 * predictor guesses per token which rows of the key matrix (and columns of the value matrix) matter and
 * only those are loaded. Here the predictor is the b-bit copy of Wk (per-tensor asymmetric min-max): its
 * scores ŝ = Ŵk·xk, and a neuron is predicted active when its score is among the top (1 − q) of the
 * token's F scores (q the layer's quantile). The step graph computes the dense FFN and masks it, as the
 * paper's reference does, and reports per layer the true and predicted active counts and their overlap.
 * The other predictor is a per-layer MLP (D → 64 → F, sigmoid above θ) trained on the model's
 * activations (fixtures/make/rwkv/predictors.py, predictors.safetensors); with both, a neuron is kept
 * when either keeps it, as the paper combines them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { readSafetensors, type Tensor } from '../../core/safetensors.js';

export interface QuantPredictor {
  /** Bits of the quantized key-matrix copy. */
  bits: 1 | 2 | 4;
  /** Per-layer quantile of the scores below which neurons are predicted inactive (one value: every layer). */
  quantile: number[];
}

export interface MlpPredictor {
  /** A neuron is predicted active when the MLP's sigmoid output is above this. */
  threshold: number;
}

/** A predictor setting: either predictor or both (OR). */
export interface SparseFfn {
  quant?: QuantPredictor;
  mlp?: MlpPredictor;
}

/** The paper's MLP threshold (mlp_map = [0.7]·L). */
export const PAPER_MLP_THRESHOLD = 0.7;

/** The trained MLP predictors of a model directory: blocks.{l}.ffn.predictor.fc1/fc2.weight. */
export function loadMlpPredictors(dir: string, layers: number, embd: number, ffn: number): Map<string, Tensor> {
  const file = join(dir, 'predictors.safetensors');
  if (!existsSync(file))
    throw new UserError(
      `${file}: missing; the MLP predictor is trained per model by fixtures/make/rwkv/predictors.py (or use quant:B:Q alone)`,
    );
  const t = readSafetensors(file);
  for (let l = 0; l < layers; l++) {
    for (const [name, shape] of [
      [`blocks.${l}.ffn.predictor.fc1.weight`, [64, embd]],
      [`blocks.${l}.ffn.predictor.fc2.weight`, [ffn, 64]],
    ] as const) {
      if (t.get(name)?.shape.join(',') !== shape.join(','))
        throw new UserError(`${file}: ${name} is missing or not [${shape.join(', ')}]; retrain the predictors for this model`);
    }
  }
  return t;
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
 * `--predictor mlp:θ,quant:B:Q[/Q2/…]` (either or both): the MLP predictor at threshold θ; the B-bit key
 * copy (1, 2 or 4 bits) at quantile Q for every layer, or one per layer separated by '/'.
 */
export function parsePredictor(value: string): SparseFfn {
  const parts = value.split(',').map((s) => s.trim());
  let quant: QuantPredictor | undefined;
  let mlp: MlpPredictor | undefined;
  for (const part of parts) {
    const [kind, ...args] = part.split(':');
    if (kind === 'mlp') {
      const threshold = args.length === 1 ? Number(args[0]) : NaN;
      if (!(threshold > 0 && threshold < 1)) throw new UserError(`--predictor "${part}": use mlp:θ with θ between 0 and 1, e.g. mlp:0.7`);
      mlp = { threshold };
      continue;
    }
    if (kind !== 'quant' || args.length !== 2)
      throw new UserError(`--predictor "${part}": use mlp:θ or quant:B:Q, e.g. mlp:0.7,quant:1:0.95 (B bits 1, 2 or 4; Q a quantile)`);
    const bits = Number(args[0]);
    if (bits !== 1 && bits !== 2 && bits !== 4) throw new UserError(`--predictor "${part}": the quantized copy takes 1, 2 or 4 bits`);
    const quantile = args[1]!.split('/').map(Number);
    if (!quantile.every((q) => q >= 0 && q < 1))
      throw new UserError(`--predictor "${part}": quantiles are numbers from 0 up to (not including) 1`);
    quant = { bits, quantile };
  }
  if (!quant && !mlp) throw new UserError('--predictor needs mlp:θ, quant:B:Q or both, e.g. mlp:0.7,quant:1:0.95');
  return { ...(mlp && { mlp }), ...(quant && { quant }) };
}
