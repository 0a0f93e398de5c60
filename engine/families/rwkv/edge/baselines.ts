/**
 * The settings a run is compared with, as STI has its baselines: the dense model held in memory (fp16 and
 * INT8), the dense model streamed layer by layer every token (a device with too little memory for it), each
 * technique alone at the paper's deployed parameters, and the paper's combination (and with INT8).
 */
import { resolveSetting, type TechniqueFlags } from '../compress/setting.js';
import { builtInTechniques } from '../open.js';
import type { EdgeSetting } from './tokens.js';

export const BASELINES = [
  'dense-fp16',
  'dense-int8',
  'dense-streamed',
  'lowrank',
  'sparse-ffn',
  'emb-cache',
  'cluster-head',
  'all',
  'all-int8',
] as const;
export type Baseline = (typeof BASELINES)[number];

const FLAGS: Record<Baseline, TechniqueFlags> = {
  'dense-fp16': { techniques: 'none' },
  'dense-int8': { techniques: 'int8' },
  'dense-streamed': { techniques: 'none' },
  lowrank: { techniques: 'lowrank' },
  'sparse-ffn': { techniques: 'sparse-ffn' },
  'emb-cache': { techniques: 'emb-cache' },
  'cluster-head': { techniques: 'cluster-head' },
  all: { techniques: 'all' },
  'all-int8': { techniques: 'all,int8' },
};

/** A baseline's setting for the model in `dir` (a factored directory keeps its low-rank projections). */
export function baselineSetting(dir: string | undefined, name: Baseline): EdgeSetting {
  const spec = resolveSetting(FLAGS[name], dir ? builtInTechniques(dir) : {}).spec;
  return { spec, ...(name === 'dense-streamed' && { stream: true }) };
}
