/**
 * Puts an RWKV model together with a technique setting: which weights it runs (its own; a continually
 * trained low-rank sibling directory; or the untrained SVD factors of its own), and which trained
 * artefacts (MLP predictors, the hierarchical head's first level) come from where. Every choice is named
 * in `sources`, so a report says what it measured.
 *
 * A trained low-rank model of `DIR` at factor f and kind k lives beside it as `DIR-lowrank<f>-<k>`
 * (fixtures/make/rwkv/lowrank.py writes them, with predictors and a head trained on its own activations).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { modelChecksum } from '../../../core/checksum.js';
import { UserError } from '../../../core/errors.js';
import type { Tensor } from '../../../core/safetensors.js';
import { loadClusterHead, type ClusterHead } from '../cluster-head.js';
import { loadModelDir, readRwkvConfig } from '../model-dir.js';
import { loadMlpPredictors } from '../sparse-ffn.js';
import type { RwkvWeights } from '../weights.js';
import { lowRankModel } from './lowrank-model.js';
import type { TechniqueSpec } from './setting.js';

/** The files whose bytes define an RWKV directory's results, with the technique artefacts it may hold. */
export const RWKV_DEFINING_FILES = ['config.json', 'model.safetensors', 'vocab.json'];
const RWKV_ARTEFACTS = ['predictors.safetensors', 'cluster-head.safetensors', 'clusters.json'];

const checksums = new Map<string, string>();

/**
 * An RWKV directory's checksum: its defining files and the artefacts given (default: whichever it has).
 * Memoised per process while the files' sizes and modification times stay the same (planning asks for
 * it for every point of a grid; hashing the weights each time took seconds).
 */
export function rwkvChecksum(dir: string, artefacts = RWKV_ARTEFACTS.filter((f) => existsSync(`${dir}/${f}`))): string {
  const files = [...RWKV_DEFINING_FILES, ...artefacts];
  const key = files
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${join(dir, f)}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
  let sum = checksums.get(key);
  if (sum === undefined) checksums.set(key, (sum = modelChecksum(dir, files)));
  return sum;
}

/** The artefacts a setting reads from the directory its weights come from. */
function artefactsUsed(spec: TechniqueSpec): string[] {
  return [
    ...(spec.sparseFfn?.mlp ? ['predictors.safetensors'] : []),
    ...(spec.clusterHead ? ['cluster-head.safetensors', 'clusters.json'] : []),
  ];
}

/** Where a low-rank setting's weights come from. */
export type LowRankSource = { init: 'built-in' } | { init: 'trained'; dir: string; checksum: string } | { init: 'svd' };

export function trainedLowRankDir(dir: string, lowrank: NonNullable<TechniqueSpec['lowrank']>): string {
  return `${dir.replace(/\/+$/, '')}-lowrank${lowrank.factor}-${lowrank.kind}`;
}

/** The model factored already, its trained sibling when there is one, else the SVD of its own weights. */
export function lowRankSource(dir: string, factored: boolean, spec: TechniqueSpec): LowRankSource | undefined {
  if (!spec.lowrank) return undefined;
  if (factored) return { init: 'built-in' };
  if (spec.lowrank.init === 'svd') return { init: 'svd' };
  const sibling = trainedLowRankDir(dir, spec.lowrank);
  if (!existsSync(`${sibling}/model.safetensors`)) return { init: 'svd' };
  // Only what this setting reads of the sibling keys its answers (its predictors do not change its perplexity).
  const used = artefactsUsed(spec).filter((f) => existsSync(`${sibling}/${f}`));
  return { init: 'trained', dir: sibling, checksum: rwkvChecksum(sibling, used) };
}

/**
 * What a setting's quality is cached under, beside the model's checksum: the spec without the embedding
 * cache (it changes no output, only where rows are read from), and the low-rank weights' origin.
 */
export function qualityKey(spec: TechniqueSpec, source: LowRankSource | undefined): object {
  const rest = { ...spec };
  delete rest.embCache;
  if (!rest.lowrank || !source || source.init === 'built-in') return rest;
  return { ...rest, lowrank: { ...rest.lowrank, init: source.init, ...(source.init === 'trained' && { from: source.checksum }) } };
}

export interface Assembled {
  weights: RwkvWeights;
  predictors?: Map<string, Tensor>;
  clusterHead?: ClusterHead;
  lowrank?: LowRankSource;
  /** The directory the weights and trained artefacts were taken from (the model's own, or its trained sibling). */
  from: string;
  /** Per technique, where its weights or artefacts came from, in words. */
  sources: Record<string, string>;
}

/**
 * Loads (or factors) what `spec` needs of the model in `dir`. Only the weights that run are read: a trained
 * sibling's instead of the model's own, never both.
 */
export function assemble(dir: string, spec: TechniqueSpec): Assembled {
  const factored = readRwkvConfig(dir).lowrank;
  const source = lowRankSource(dir, !!factored, spec);
  const sources: Record<string, string> = {};
  let artefacts = dir;
  if (spec.lowrank && factored && factored.factor !== spec.lowrank.factor)
    throw new UserError(`${dir}: factored at f = ${factored.factor}; it cannot run at f = ${spec.lowrank.factor}`);
  if (source?.init === 'built-in') sources.lowrank = `${basename(dir)} is factored (config.json "lowrank")`;
  let w: RwkvWeights;
  if (source?.init === 'trained') {
    w = loadModelDir(source.dir);
    artefacts = source.dir;
    sources.lowrank = `continually trained: ${source.dir} (see its lowrank-metrics.json)`;
  } else w = loadModelDir(dir);
  if (source?.init === 'svd') {
    w = lowRankModel(w, { factor: spec.lowrank!.factor, kind: spec.lowrank!.kind }).weights;
    const sibling = trainedLowRankDir(dir, spec.lowrank!);
    sources.lowrank =
      spec.lowrank!.init === 'svd'
        ? 'untrained SVD initialisation (--lowrank-init svd)'
        : `untrained SVD initialisation (no continually trained ${sibling}; fixtures/make/make.sh rwkv makes it)`;
  }
  const predictors = spec.sparseFfn?.mlp ? loadMlpPredictors(artefacts, w.layers, w.embd, w.ffn) : undefined;
  if (predictors)
    sources.predictors = `${artefacts}/predictors.safetensors${artefacts === dir && source?.init === 'svd' ? ' (trained on the dense model)' : ''}`;
  const clusterHead = spec.clusterHead && loadClusterHead(artefacts, spec.clusterHead, w.vocab, w.embd);
  if (clusterHead) sources.clusterHead = `${artefacts}/cluster-head.safetensors, clusters.json`;
  return { weights: w, predictors, clusterHead, lowrank: source, from: artefacts, sources };
}
