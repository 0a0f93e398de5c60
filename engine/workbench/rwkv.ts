/**
 * The workbench's RWKV side: RWKV-edge's settings as What-if's toggles, their prediction on an SoC
 * (edge/predict.ts), the planner's pick for a memory budget and token-latency target (edge/planning.ts),
 * cached quality from the experiment store, the grid Tradeoffs draws, and the long jobs (quality
 * measurement, a live generation). RWKV is not planned through the family registry's FamilyModel (that
 * seam is BERT's shard planning), so the workbench reaches RWKV-edge's modules here, in one file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { lowRankSource, qualityKey, rwkvChecksum } from '../families/rwkv/compress/assemble.js';
import { EmbeddingCache } from '../families/rwkv/compress/emb-cache.js';
import { describeSpec, techniquesOf, type TechniqueSpec } from '../families/rwkv/compress/setting.js';
import { isRwkvModel } from '../families/rwkv/detect.js';
import { BASELINES, baselineSetting } from '../families/rwkv/edge/baselines.js';
import { edgeStatsFor } from '../families/rwkv/edge/planning.js';
import { predictEdge, type EdgePrediction, type EdgeStats } from '../families/rwkv/edge/predict.js';
import { RwkvTokenizer } from '../families/rwkv/tokenizer.js';
import type { EdgeSetting } from '../families/rwkv/edge/tokens.js';
import { LM_TASK, techniquesHash } from '../families/rwkv/lm-quality.js';
import { readRwkvConfig } from '../families/rwkv/model-dir.js';
import { builtInTechniques, settingFor } from '../families/rwkv/open.js';
import type { RwkvDims } from '../families/rwkv/presets.js';
import type { CostModel } from '../soc/cost.js';
import type { ExperimentStore } from '../store/db.js';
import type {
  ModelEntry,
  RwkvNumbers,
  RwkvPoint,
  RwkvQuality,
  RwkvResident,
  RwkvSettingView,
  RwkvTechniques,
  RwkvWhatIfView,
} from './api.js';

export const RWKV_TASK = LM_TASK;

/** True for an RWKV model directory. */
export function isRwkvDir(dir: string): boolean {
  return isRwkvModel(dir);
}

/**
 * A bundled RWKV model as Setup lists it, or undefined for one the workbench does not list: a trained
 * low-rank sibling (`NAME-lowrankF-KIND` beside `NAME`) is what the base model runs with when low-rank is
 * toggled on (assemble.ts reads its weights), so it is not a model of its own here.
 */
export function rwkvEntry(id: string, dir: string, all: readonly string[]): ModelEntry | undefined {
  const c = readRwkvConfig(dir);
  if (c.lowrank && all.some((base) => id.startsWith(`${base}-lowrank`))) return undefined;
  const heads = c.head_size ? c.n_embd / c.head_size : 1;
  return {
    id,
    family: 'rwkv',
    task: RWKV_TASK,
    labels: [],
    layers: c.n_layer,
    slices: 0,
    hidden: c.n_embd,
    bits: [16, 8],
    devExamples: 0,
    rwkv: { version: c.version, embd: c.n_embd, ffn: c.dim_ffn, vocab: c.vocab_size, heads, headSize: c.head_size ?? c.n_embd },
  };
}

export function dimsOf(dir: string): RwkvDims {
  const c = readRwkvConfig(dir);
  const headSize = c.head_size ?? c.n_embd;
  return {
    version: c.version,
    layers: c.n_layer,
    embd: c.n_embd,
    heads: c.n_embd / headSize,
    headSize,
    ffn: c.dim_ffn,
    vocab: c.vocab_size,
  };
}

const NAMES: [keyof RwkvTechniques, string][] = [
  ['lowrank', 'lowrank'],
  ['sparseFfn', 'sparse-ffn'],
  ['embCache', 'emb-cache'],
  ['clusterHead', 'cluster-head'],
  ['int8', 'int8'],
];

/** The toggles' setting for a model directory (what it has built in stays on, as on the command line). */
export function edgeSettingOf(dir: string, t: RwkvTechniques): EdgeSetting {
  const on = NAMES.filter(([k]) => t[k]).map(([, n]) => n);
  if (t.stream && on.some((n) => n !== 'int8'))
    throw new UserError(
      `stream dense streams the dense model layer by layer; it does not combine with ${on.filter((n) => n !== 'int8').join(', ')}`,
    );
  const s = settingFor(dir, { techniques: on.join(',') || 'none' });
  return { spec: s.spec, ...(t.stream && { stream: true }) };
}

/** The toggles of a setting (a planner's pick, a grid point). */
export function togglesOf(setting: EdgeSetting): RwkvTechniques {
  const on = new Set(techniquesOf(setting.spec));
  return {
    lowrank: on.has('lowrank'),
    sparseFfn: on.has('sparse-ffn'),
    embCache: on.has('emb-cache'),
    clusterHead: on.has('cluster-head'),
    int8: on.has('int8'),
    stream: !!setting.stream,
  };
}

export function settingView(setting: EdgeSetting, label?: string): RwkvSettingView {
  const dense = techniquesOf(setting.spec).length === 0;
  const text = setting.stream
    ? `dense${setting.spec.int8 ? ' INT8' : ''}, streamed layer by layer`
    : dense
      ? 'dense fp16, held in memory'
      : describeSpec(setting.spec);
  return { label: label ?? text, techniques: togglesOf(setting), spec: setting.spec as Record<string, unknown> };
}

/**
 * What a setting's quality and statistics are stored under: the model's checksum and the setting's
 * quality key (with its low-rank sibling's checksum). Hashing the weights takes a good part of a second,
 * so each is computed once per process (bundled models do not change while the workbench runs).
 */
const scopes = new Map<string, { model: string; task: string; configHash: string }>();
function scopeOf(dir: string, spec: TechniqueSpec) {
  const k = `${dir}\0${JSON.stringify(spec)}`;
  let s = scopes.get(k);
  if (!s) {
    const key = qualityKey(spec, lowRankSource(dir, !!readRwkvConfig(dir).lowrank, spec));
    s = { model: checksumOf(dir), task: LM_TASK, configHash: techniquesHash(key) };
    scopes.set(k, s);
  }
  return s;
}
const checksums = new Map<string, string>();
const checksumOf = (dir: string) => {
  let c = checksums.get(dir);
  if (!c) checksums.set(dir, (c = rwkvChecksum(dir)));
  return c;
};

/** A setting's quality as the experiment store has it (the split with the most tokens), or null. */
export function cachedQuality(db: ExperimentStore, dir: string, spec: TechniqueSpec, split?: string): RwkvQuality | null {
  if (!existsSync(join(dir, 'model.safetensors'))) return null;
  const scope = scopeOf(dir, spec);
  const ppl = db.qualityAcrossSplits({ ...scope, metric: 'perplexity' }).filter((q) => split === undefined || q.split === split);
  if (!ppl.length) return null;
  const best = [...ppl].sort((a, b) => b.count - a.count)[0]!;
  const word = db.qualityAcrossSplits({ ...scope, metric: 'lastWordAccuracy' }).find((w) => w.split === best.split);
  return { perplexity: best.value, lastWordAccuracy: word?.value ?? NaN, split: best.split, tokens: best.count };
}

export function numbersOf(p: EdgePrediction): RwkvNumbers {
  return {
    tokenMs: p.tokenMs,
    tokensPerSecond: p.tokensPerSecond,
    firstTokenMs: p.firstTokenMs,
    stallMsPerToken: p.stallMsPerToken,
    ioBytesPerToken: p.ioBytesPerToken,
    persistentBytes: p.persistentBytes,
    peakBytes: p.peakBytes,
  };
}

export function residentView(p: EdgePrediction): RwkvResident {
  return { ...p.resident, byCategory: { ...p.resident.byCategory } };
}

/** The baselines of a model directory, each as a grid point predicted on the SoC. */
export function baselinePoints(
  dir: string,
  db: ExperimentStore,
  cost: CostModel,
  stats: (s: EdgeSetting) => EdgeStats,
  budgetBytes = Infinity,
): RwkvPoint[] {
  const dims = dimsOf(dir);
  return BASELINES.map((name) => {
    const setting = baselineSetting(dir, name);
    const p = predictEdge(cost, dims, setting, stats(setting));
    return {
      label: name,
      ...numbersOf(p),
      setting: settingView(setting),
      fits: p.peakBytes <= budgetBytes,
      baseline: true,
      quality: cachedQuality(db, dir, setting.spec),
    };
  });
}

/** Replays the ids a run fed through a fresh cache of the setting's: what the device's cache holds at its end. */
export function cacheContents(spec: TechniqueSpec, fed: readonly number[]): number[] {
  if (!spec.embCache) return [];
  const cache = new EmbeddingCache(spec.embCache.rows, spec.embCache.policy);
  for (const id of fed) cache.lookup(id);
  return cache.contents();
}

export type { RwkvWhatIfView };
export { builtInTechniques };

const tokenizers = new Map<string, RwkvTokenizer>();

/** The statistics a prediction needs (planning.ts edgeStatsFor: measured where lm-eval measured them, else the paper's), one tokenizer per model. */
export function statsFor(dir: string, db: ExperimentStore, setting: EdgeSetting): EdgeStats {
  let tok = tokenizers.get(dir);
  if (!tok) tokenizers.set(dir, (tok = RwkvTokenizer.fromFile(join(dir, 'vocab.json'))));
  return edgeStatsFor(dir, db, setting, tok);
}
