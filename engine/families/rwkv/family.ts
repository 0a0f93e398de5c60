/** The RWKV family: RWKV-edge's recurrent language models, run token by token (RNN mode). */
import { UserError } from '../../core/errors.js';
import type { ModelFamily } from '../family.js';
import { isRwkvModel } from './detect.js';
import { isRwkvPreset, RWKV_PRESETS } from './presets.js';

export const rwkvFamily: ModelFamily = {
  id: 'rwkv',
  title: 'RWKV language models',
  system: 'RWKV-edge (2024)',
  metric: { name: 'perplexity', higherIsBetter: false, format: 'number' },
  unit: "one layer's time-mix and channel-mix weights",
  defaultSeq: 1,
  presets: RWKV_PRESETS,
  paradigms: [],
  commands: async () => (await import('./cli/index.js')).COMMANDS,
  detect: (path) => isRwkvPreset(path) || isRwkvModel(path),
  planners: () => [],
  workbench: async () => (await import('./workbench.js')).RWKV_WORKBENCH,
  sweeps: async () => (await import('./sweep.js')).SWEEPS,
  open: async (dir) => {
    throw new UserError(
      `${dir}: RWKV models are planned and run by their own commands: shardlab plan --memory-mb, shardlab run --prompt (see shardlab run --help)`,
    );
  },
};
