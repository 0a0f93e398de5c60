/** The BERT family: STI's sharded encoder classifiers (one attention head + its FFN slice per shard). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelFamily } from '../family.js';
import { DEFAULT_SEQ, PARADIGMS, PLANNERS } from './defaults.js';
import { isShapePreset, SHAPE_PRESETS } from './presets.js';

/** Reads `model_type` from a checkpoint's config.json, or from the config a shard store keeps. */
function modelType(dir: string): string | undefined {
  for (const f of ['config.json', 'manifest.json']) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    try {
      const j = JSON.parse(readFileSync(p, 'utf8')) as { model_type?: unknown; config?: { model_type?: unknown } };
      const t = f === 'config.json' ? j.model_type : (j.config?.model_type ?? 'bert');
      return typeof t === 'string' ? t : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export const bertFamily: ModelFamily = {
  id: 'bert',
  title: 'BERT encoder classifiers',
  system: 'STI (ASPLOS 2023)',
  metric: { name: 'accuracy', higherIsBetter: true, format: 'percent' },
  unit: 'one attention head with its slice of FFN neurons, per layer, at 2–6-bit dictionary quantization or fp32',
  defaultSeq: DEFAULT_SEQ,
  presets: SHAPE_PRESETS,
  paradigms: PARADIGMS,
  commands: async () => (await import('./cli/index.js')).COMMANDS,
  detect: (dir) => isShapePreset(dir) || ['bert', 'distilbert', 'roberta'].includes(modelType(dir) ?? ''),
  planners: () => PLANNERS,
  // The model's code (onnxruntime, the planners, HiGHS) loads only when a model is opened.
  open: async (dir, opts) => (await import('./session.js')).openBert(bertFamily, dir, opts),
};
