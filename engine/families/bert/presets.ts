import type { BertConfig } from './config.js';

/** Architecture presets at the papers' scale, for timing studies (weights are random: accuracy n/a). */
export const SHAPE_PRESETS = ['bert-base', 'bert-large', 'distilbert'] as const;
export type ShapePreset = (typeof SHAPE_PRESETS)[number];

const DIMS: Record<ShapePreset, { layers: number; hidden: number; heads: number; intermediate: number }> = {
  'bert-base': { layers: 12, hidden: 768, heads: 12, intermediate: 3072 },
  'bert-large': { layers: 24, hidden: 1024, heads: 16, intermediate: 4096 },
  distilbert: { layers: 6, hidden: 768, heads: 12, intermediate: 3072 },
};

export function isShapePreset(name: string): name is ShapePreset {
  return (SHAPE_PRESETS as readonly string[]).includes(name);
}

export function presetConfig(name: ShapePreset): BertConfig {
  const d = DIMS[name];
  return {
    vocabSize: 30522,
    hidden: d.hidden,
    layers: d.layers,
    heads: d.heads,
    headDim: d.hidden / d.heads,
    intermediate: d.intermediate,
    maxPositions: 512,
    typeVocab: 2,
    eps: 1e-12,
    labels: ['class-0', 'class-1'],
    slices: d.heads,
    ffnPerSlice: d.intermediate / d.heads,
  };
}
