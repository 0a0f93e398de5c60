/**
 * The statistics memory accounting needs and cannot know from shapes alone: the fraction of FFN rows the
 * predictors load (per layer) and the fraction of the head's rows the hierarchical head reads per token.
 * They come, in this order, from the flag that gives them, from `shardlab lm-eval` of the same model and
 * setting (the experiment store caches every measurement), or from the paper's assumptions (§4); each
 * carries its source, so a table never shows an assumption as a measurement.
 */
import type { ExperimentStore } from '../../../store/db.js';
import { LM_TASK, techniquesHash } from '../lm-quality.js';
import { readRwkvConfig } from '../model-dir.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lowRankSource, qualityKey, RWKV_DEFINING_FILES, rwkvChecksum } from './assemble.js';
import type { Statistic, Techniques } from './memory.js';
import type { DefaultUsed, TechniqueSpec } from './setting.js';

export interface MeasuredStats {
  /** Per layer: 1 − predicted sparsity. */
  ffnDensity?: Statistic<number[]>;
  headTouched?: Statistic<number>;
}

/** What lm-eval measured for `dir` under `spec` (on the split with the most tokens), if it has. */
export function measuredStats(db: ExperimentStore, dir: string, spec: TechniqueSpec): MeasuredStats {
  // Only a whole directory can have been evaluated (memory itself needs no more than config.json).
  if (!RWKV_DEFINING_FILES.every((f) => existsSync(join(dir, f)))) return {};
  const config = readRwkvConfig(dir);
  const key = qualityKey(spec, lowRankSource(dir, !!config.lowrank, spec));
  const scope = { model: rwkvChecksum(dir), task: LM_TASK, configHash: techniquesHash(key) };
  const metric = (name: string) => db.qualityAcrossSplits({ ...scope, metric: name })[0];
  const where = (m: { split: string; count: number }) => `measured by shardlab lm-eval on ${dir} (${m.split}, ${m.count} tokens)`;
  const out: MeasuredStats = {};
  if (spec.sparseFfn) {
    const layers = Array.from({ length: config.n_layer }, (_, l) => metric(`ffn.predictedSparsity.${l}`));
    if (layers.every((m) => m !== undefined)) out.ffnDensity = { value: layers.map((m) => 1 - m!.value), source: where(layers[0]!) };
  }
  const head = spec.clusterHead && metric('head.rowsTouched');
  if (head) out.headTouched = { value: head.value, source: where(head) };
  return out;
}

/** The paper's assumptions (§4), where nothing measured them. */
const PAPER_DENSITY = 0.25;
const PAPER_TOUCHED = 0.13;

export interface StatOverrides {
  predictorDensity?: number[];
  headTouched?: number;
}

/**
 * Memory accounting's view of a setting: the spec's shapes with the statistics, each from the flag, the
 * measurement or the paper. `layers` is the accounted model's depth: a measurement of another depth (a
 * preset accounted with the fixture's statistics) counts as the mean over its layers.
 */
export function accountingOf(
  spec: TechniqueSpec,
  stats: MeasuredStats,
  given: StatOverrides,
  layers: number,
): { techniques: Techniques; defaults: DefaultUsed[] } {
  const t: Techniques = {};
  const defaults: DefaultUsed[] = [];
  if (spec.lowrank) t.lowrank = { factor: spec.lowrank.factor };
  if (spec.sparseFfn) {
    const density = densityStat(given.predictorDensity, stats.ffnDensity, layers, defaults);
    t.sparseFfn = { density, predictorBits: spec.sparseFfn.quant?.bits ?? 0, mlpHidden: spec.sparseFfn.mlp ? 64 : 0 };
  }
  if (spec.clusterHead) {
    let touched: Statistic<number>;
    if (given.headTouched !== undefined) touched = { value: given.headTouched, source: 'given (--head-touched)' };
    else if (stats.headTouched) touched = stats.headTouched;
    else {
      const source = "§3.4: the 0.1B model touches about 35 of 200 clusters, 13 % of the head, per token (authors' notes)";
      defaults.push({ flag: '--head-touched', value: String(PAPER_TOUCHED), source: `${source}; not measured for this setting yet` });
      touched = { value: PAPER_TOUCHED, source };
    }
    t.clusterHead = { clusters: spec.clusterHead.clusters, touched };
  }
  if (spec.embCache) t.embCache = { rows: spec.embCache.rows };
  if (spec.int8) t.int8 = true;
  return { techniques: t, defaults };
}

function densityStat(given: number[] | undefined, measured: Statistic<number[]> | undefined, layers: number, defaults: DefaultUsed[]) {
  if (given) return { value: given.length === 1 ? given[0]! : given, source: 'given (--predictor-density)' };
  if (measured) {
    const v = measured.value;
    if (v.length === layers) return measured;
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return { value: mean, source: `${measured.source}, the mean of its ${v.length} layers` };
  }
  const source = 'RWKV-edge §4 assumption (25 % of FFN key/value resident)';
  defaults.push({ flag: '--predictor-density', value: String(PAPER_DENSITY), source: `${source}; not measured for this setting yet` });
  return { value: PAPER_DENSITY, source };
}
