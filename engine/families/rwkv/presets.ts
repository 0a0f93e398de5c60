/**
 * Shape-only RWKV-5 World models at the paper's scale (rwkv-edge.md §1.1: RWKV-5.2, vocabulary 65536,
 * FFN 3.5·D, head size 64), for memory accounting; there are no weights behind them.
 */
import type { RwkvWeights } from './weights.js';

export const RWKV_PRESETS = ['rwkv5-world-0.1b', 'rwkv5-world-0.4b', 'rwkv5-world-1.5b', 'rwkv5-world-3b'] as const;
export type RwkvPreset = (typeof RWKV_PRESETS)[number];

/** A model's shape without its tensors. */
export type RwkvDims = Omit<RwkvWeights, 'tensors' | 'groupNormEps'>;

const LAYERS_WIDTH: Record<RwkvPreset, [number, number]> = {
  'rwkv5-world-0.1b': [12, 768],
  'rwkv5-world-0.4b': [24, 1024],
  'rwkv5-world-1.5b': [24, 2048],
  'rwkv5-world-3b': [32, 2560],
};

export function isRwkvPreset(name: string): name is RwkvPreset {
  return (RWKV_PRESETS as readonly string[]).includes(name);
}

export function presetDims(name: RwkvPreset): RwkvDims {
  const [layers, embd] = LAYERS_WIDTH[name];
  return { version: '5.2', layers, embd, heads: embd / 64, headSize: 64, ffn: (7 * embd) / 2, vocab: 65536 };
}
