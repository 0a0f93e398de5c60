/**
 * The workbench's RWKV side (ModelFamily.workbench, reached through the registry): RWKV-edge's settings as
 * What-if's toggles, their prediction on an SoC (edge/predict.ts), the planner's pick for a memory budget
 * and token-latency target (edge/planning.ts), cached quality from the experiment store, the grid
 * Tradeoffs draws, and the long jobs' work (quality measurement, a live generation). Plain data out.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { lowRankSource, qualityKey, rwkvChecksum } from './compress/assemble.js';
import { EmbeddingCache } from './compress/emb-cache.js';
import { describeSpec, techniquesOf, type TechniqueSpec } from './compress/setting.js';
import { BASELINES, baselineSetting } from './edge/baselines.js';
import { edgeStatsFor } from './edge/planning.js';
import { predictEdge, type EdgePrediction, type EdgeStats } from './edge/predict.js';
import { RwkvTokenizer } from './tokenizer.js';
import type { EdgeSetting } from './edge/tokens.js';
import { LM_TASK, techniquesHash } from './lm-quality.js';
import { readRwkvConfig } from './model-dir.js';
import { settingFor } from './open.js';
import type { RwkvDims } from './presets.js';
import type { CostModel } from '../../soc/cost.js';
import type { ExperimentStore } from '../../store/db.js';
import type { Clock } from '../../pipeline/clock.js';
import type { TraceEvent } from '../../pipeline/trace.js';
import type {
  RwkvGridView,
  RwkvLiveRun,
  RwkvLiveSpec,
  RwkvPlanView,
  RwkvPoint,
  RwkvQuality,
  RwkvRequest,
  RwkvResident,
  RwkvSettingView,
  RwkvTechniques,
  RwkvWhatIfView,
  TokenWorkbench,
} from '../family.js';
import { rwkvNumbers } from '../family.js';
import { EDGE_PLAN_LIMIT, planEdge, planningContext, type Candidate, type PlanningContext } from './edge/planning.js';
import { openEdge } from './edge/open.js';
import { runEdge, runFigures } from './edge/run.js';
import { lmQuality } from './lm-quality.js';
import { openRwkvDir } from './open.js';

export const RWKV_TASK = LM_TASK;

/**
 * A bundled RWKV model as Setup lists it, or undefined for one the workbench does not list: a trained
 * low-rank sibling (`NAME-lowrankF-KIND` beside `NAME`) is what the base model runs with when low-rank is
 * toggled on (assemble.ts reads its weights), so it is not a model of its own here.
 */
export function rwkvEntry(id: string, dir: string, all: readonly string[]): ReturnType<TokenWorkbench['entry']> {
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
      ...rwkvNumbers(p),
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

const tokenizers = new Map<string, RwkvTokenizer>();

/** The statistics a prediction needs (planning.ts edgeStatsFor: measured where lm-eval measured them, else the paper's), one tokenizer per model. */
export function statsFor(dir: string, db: ExperimentStore, setting: EdgeSetting): EdgeStats {
  let tok = tokenizers.get(dir);
  if (!tok) tokenizers.set(dir, (tok = RwkvTokenizer.fromFile(join(dir, 'vocab.json'))));
  return edgeStatsFor(dir, db, setting, tok);
}

// ---- the planner's grid, What-if, Tradeoffs, jobs ----------------------------------------------------

/** Planning grids by model directory and quality sample, read once per process (seconds) and then kept. */
const grids = new Map<string, { ctx?: PlanningContext; pending?: Promise<PlanningContext> }>();

/**
 * The planning grid of a model at a quality sample. The first read takes seconds (every point's statistics
 * and cached quality), so it runs in the background unless `wait` (What-if answers without a plan
 * meanwhile: planStatus 'preparing'). Later calls read again only the qualities still missing (jobs in
 * other processes store them); when some arrived, the grid is read afresh in the background (their
 * statistics are measured too).
 */
function planning(dir: string, db: ExperimentStore, limit: number, wait: boolean): Promise<PlanningContext | undefined> {
  const key = `${dir}\0${limit}`;
  let entry = grids.get(key);
  if (!entry) grids.set(key, (entry = {}));
  const g = entry;
  const refresh = () => {
    const p = planningContext(dir, db, { limit, measure: false });
    g.pending = p;
    p.then(
      (ctx) => {
        g.ctx = ctx;
        if (g.pending === p) g.pending = undefined;
      },
      () => {
        if (g.pending === p) g.pending = undefined;
      },
    );
    return p;
  };
  if (!g.ctx) {
    const p = g.pending ?? refresh();
    return wait ? p : Promise.resolve(undefined);
  }
  const split = `test~strat${limit}`;
  let found = false;
  for (const pt of g.ctx.points)
    if (!pt.quality) {
      const got = cachedQuality(db, dir, { ...pt.setting.spec, embCache: undefined }, split);
      if (got) {
        pt.quality = got;
        found = true;
      }
    }
  if (found && !g.pending) void refresh().catch(() => {});
  return Promise.resolve(g.ctx);
}

function pointOf(c: Candidate): RwkvPoint {
  return {
    label: c.label,
    ...rwkvNumbers(c.prediction),
    setting: settingView(c.setting, c.label),
    fits: c.fits,
    baseline: false,
    quality: c.quality ?? null,
  };
}

async function whatIf(dir: string, cost: CostModel, db: ExperimentStore, q: RwkvRequest): Promise<RwkvWhatIfView> {
  const t0 = performance.now();
  const setting = edgeSettingOf(dir, q.techniques);
  const stats = statsFor(dir, db, setting);
  const p = predictEdge(cost, dimsOf(dir), setting, stats);
  const budget = q.memoryMb * 2 ** 20;
  const limit = q.qualityLimit ?? EDGE_PLAN_LIMIT;
  const ctx = await planning(dir, db, limit, false);
  let plan: RwkvPlanView | null = null;
  if (ctx) {
    const r = planEdge(ctx, cost, { memoryBytes: budget, ...(q.tokenMs !== undefined && { tokenMs: q.tokenMs }) });
    plan = {
      pick: r.pick ? pointOf(r.pick) : null,
      optimum: r.optimum ? pointOf(r.optimum) : null,
      gapPct: r.gapPct,
      planMs: r.planMs,
      exhaustiveMs: r.exhaustiveMs,
      why: r.why ?? null,
      candidates: r.candidates.length,
    };
  }
  return {
    query: q,
    family: 'rwkv',
    setting: settingView(setting),
    prediction: {
      ...rwkvNumbers(p),
      resident: residentView(p),
      memoryByCategory: p.memoryByCategory as Record<string, { persistent: number; peak: number }>,
    },
    events: p.events,
    stats: { density: stats.density, headTouched: stats.headTouched, embHitRate: stats.embHitRate, sources: { ...stats.sources } },
    fits: p.peakBytes <= budget,
    meetsLatency: q.tokenMs === undefined ? null : p.tokenMs <= q.tokenMs,
    quality: cachedQuality(db, dir, setting.spec, `test~strat${limit}`),
    plan,
    planStatus: ctx ? 'ready' : 'preparing',
    qualityLimit: limit,
    answerMs: performance.now() - t0,
  };
}

async function grid(
  dir: string,
  cost: CostModel,
  db: ExperimentStore,
  q: { soc: string; model: string; qualityLimit?: number },
): Promise<RwkvGridView> {
  const limit = q.qualityLimit ?? EDGE_PLAN_LIMIT;
  const ctx = (await planning(dir, db, limit, true))!;
  const points: RwkvPoint[] = ctx.points.map((pt) => {
    const p = predictEdge(cost, ctx.dims, pt.setting, pt.stats);
    return {
      label: pt.label,
      ...rwkvNumbers(p),
      setting: settingView(pt.setting, pt.label),
      fits: true,
      baseline: false,
      quality: pt.quality ?? null,
    };
  });
  const split = `test~strat${limit}`;
  const baselines = baselinePoints(dir, db, cost, (s) => statsFor(dir, db, s)).map((b) => ({
    ...b,
    quality: cachedQuality(db, dir, b.setting.spec as TechniqueSpec, split),
  }));
  return { soc: q.soc, model: q.model, points: [...baselines, ...points], limit };
}

async function quality(
  dir: string,
  db: ExperimentStore,
  techniques: RwkvTechniques | undefined,
  limit: number | undefined,
  onProgress: (done: number, total: number, stage: string) => void,
  signal: AbortSignal,
): Promise<{ measured: number; quality: RwkvQuality | null }> {
  const n = limit ?? EDGE_PLAN_LIMIT;
  if (!techniques) {
    let total = 0;
    await planningContext(dir, db, { limit: n, measure: true, signal, onProgress: (d, t) => onProgress(d, (total = t), 'grid settings') });
    return { measured: total, quality: null };
  }
  const setting = edgeSettingOf(dir, techniques);
  const lm = await openRwkvDir(dir, { techniques: setting.spec, threads: 1 });
  try {
    const a = await lmQuality(lm, db, 'test', n, (d, t) => onProgress(d, t, 'passages'));
    return { measured: 1, quality: { perplexity: a.perplexity, lastWordAccuracy: a.lastWordAccuracy, split: a.split, tokens: a.tokens } };
  } finally {
    await lm.release();
  }
}

async function live(
  dir: string,
  cost: CostModel,
  db: ExperimentStore,
  spec: RwkvLiveSpec,
  clock: Clock,
  on: { event(e: TraceEvent): void; token(t: { index: number; text: string; atUs: number }): void; threads: number },
): Promise<RwkvLiveRun> {
  const setting = edgeSettingOf(dir, spec.techniques);
  const predicted = predictEdge(cost, dimsOf(dir), setting, statsFor(dir, db, setting));
  const model = await openEdge(dir, setting, { threads: on.threads });
  try {
    const tok = model.lm.tokenizer;
    const prompt = [tok.eot, ...tok.encode(spec.prompt)];
    const r = await runEdge({
      lm: model.lm,
      store: model.store,
      setting,
      cost,
      clock,
      prompt,
      count: spec.tokens,
      onEvent: (e) => on.event(e),
      onToken: (t) => on.token({ index: t.index, text: t.text, atUs: t.atUs }),
    });
    const contents = cacheContents(setting.spec, [...prompt, ...r.generated.slice(0, -1)]);
    return {
      setting: settingView(setting),
      text: r.text,
      tokens: r.generated.length,
      ...runFigures(r),
      resident: { ...r.resident, byCategory: { ...r.resident.byCategory } },
      embCache: r.embCache
        ? { hits: r.embCache.hits, lookups: r.embCache.lookups, hitRate: r.embCache.hitRate, rows: contents.length }
        : null,
      cacheContents: contents.slice(-64).map((id) => ({ id, text: tok.decode([id]) })),
      overruns: r.overruns.length,
      predictedTokenMs: predicted.tokenMs,
      stallMsPerStep: r.stallMs / Math.max(1, r.steps.length),
      quality: cachedQuality(db, dir, setting.spec),
    };
  } finally {
    await model.release();
  }
}

export const RWKV_WORKBENCH: TokenWorkbench = { entry: rwkvEntry, whatIf, grid, quality, live };
