/**
 * Planning RWKV-edge for a device: which techniques, at which parameters, give the best quality within a
 * memory budget and a per-token latency target. The grid is every combination of the knobs' levels (low
 * rank on or off, predictor thresholds, head mass, INT8, embedding cache size) plus the dense model
 * streamed; each point's quality is measured once (lm-eval on a fixed sample of the test split, cached
 * in the experiment store; the cache size changes no output, so it shares its point's quality), and its
 * speed and memory are predicted on the SoC (predict.ts). The planner climbs the knobs greedily from the
 * most compressed point; the exhaustive search over the same grid says how far its pick is from the best.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readSafetensorsHeader } from '../../../core/safetensors.js';
import type { CostModel } from '../../../soc/cost.js';
import type { ExperimentStore } from '../../../store/db.js';
import { lowRankSource, qualityKey, rwkvChecksum } from '../compress/assemble.js';
import { testStream, hitRates } from '../compress/emb-cache.js';
import { accountingOf, measuredStats } from '../compress/measured.js';
import { describeSpec, type TechniqueSpec } from '../compress/setting.js';
import { cachedLmQuality, lmQuality } from '../lm-quality.js';
import { readRwkvConfig, readRwkvDims } from '../model-dir.js';
import { builtInTechniques, openRwkvDir } from '../open.js';
import type { RwkvDims } from '../presets.js';
import { parsePredictor } from '../sparse-ffn.js';
import { RwkvTokenizer } from '../tokenizer.js';
import { predictEdge, type EdgePrediction, type EdgeStats } from './predict.js';
import { residentOf } from './resident.js';
import type { EdgeSetting } from './tokens.js';

/** Passages of the test split a grid point's quality is measured on unless asked otherwise. */
export const EDGE_PLAN_LIMIT = 40;

export interface GridPoint {
  label: string;
  setting: EdgeSetting;
  /** Level of each knob (0 = most compressed); absent for points off the knobs (the dense model streamed). */
  levels?: number[];
}

export interface PointQuality {
  perplexity: number;
  lastWordAccuracy: number;
  split: string;
  tokens: number;
}

export interface PlanningContext {
  dir: string;
  dims: RwkvDims;
  limit: number;
  /** Levels per knob, in the order of GridPoint.levels. */
  knobs: { name: string; levels: string[] }[];
  points: (GridPoint & { quality?: PointQuality; stats: EdgeStats })[];
}

type Knob = { name: string; levels: { label: string; apply: (s: TechniqueSpec) => void }[] };

/** The knobs of a model directory: only techniques it has the trained artefacts for. */
function knobsOf(dir: string): Knob[] {
  const built = builtInTechniques(dir);
  const vocab = readRwkvConfig(dir).vocab_size;
  const knobs: Knob[] = [];
  if (built.lowrank) knobs.push({ name: 'lowrank', levels: [{ label: `lowrank f${built.lowrank.factor}`, apply: () => {} }] });
  else
    knobs.push({
      name: 'lowrank',
      levels: [
        { label: 'lowrank f8 (x058)', apply: (s) => (s.lowrank = { factor: 8, kind: 'linear' }) },
        { label: 'no lowrank', apply: () => {} },
      ],
    });
  const mlp = existsSync(join(dir, 'predictors.safetensors'));
  const predictors = mlp ? ['mlp:0.7,quant:1:0.95', 'mlp:0.5,quant:1:0.9'] : ['quant:1:0.95', 'quant:1:0.9'];
  knobs.push({
    name: 'sparse-ffn',
    levels: [
      ...predictors.map((p) => ({ label: `predictor ${p}`, apply: (s: TechniqueSpec) => (s.sparseFfn = parsePredictor(p)) })),
      { label: 'dense FFN', apply: () => {} },
    ],
  });
  const headFile = join(dir, 'cluster-head.safetensors');
  if (existsSync(headFile)) {
    const K = readSafetensorsHeader(headFile).tensors.find((t) => t.name === 'head_l1.weight')?.shape[0] ?? 200;
    knobs.push({
      name: 'cluster-head',
      levels: [
        ...[0.95, 0.98].map((mass) => ({
          label: `head ${K}:${mass}`,
          apply: (s: TechniqueSpec) => (s.clusterHead = { clusters: K, mass }),
        })),
        { label: 'full head', apply: () => {} },
      ],
    });
  }
  knobs.push({
    name: 'int8',
    levels: [
      { label: 'INT8', apply: (s) => (s.int8 = true) },
      { label: 'fp16', apply: () => {} },
    ],
  });
  const sizes = [250, 1000, 4000].filter((n) => n < vocab);
  knobs.push({
    name: 'emb-cache',
    levels: [
      ...sizes.map((rows) => ({ label: `cache ${rows}`, apply: (s: TechniqueSpec) => (s.embCache = { rows, policy: 'fifo' as const }) })),
      { label: 'embedding held', apply: () => {} },
    ],
  });
  return knobs;
}

/** Every combination of the knobs' levels, and the dense model streamed. */
export function planningGrid(dir: string): { knobs: Knob[]; points: GridPoint[] } {
  const knobs = knobsOf(dir);
  const points: GridPoint[] = [];
  const walk = (k: number, levels: number[]) => {
    if (k === knobs.length) {
      const spec: TechniqueSpec = {};
      knobs.forEach((knob, i) => knob.levels[levels[i]!]!.apply(spec));
      points.push({ label: describeSpec(spec), setting: { spec }, levels: [...levels] });
      return;
    }
    for (let l = 0; l < knobs[k]!.levels.length; l++) walk(k + 1, [...levels, l]);
  };
  walk(0, []);
  points.push({ label: 'dense, streamed layer by layer', setting: { spec: {}, stream: true } });
  return { knobs, points };
}

/** The quality a point is cached under: its spec without the embedding cache (which changes no output). */
function qualitySpec(spec: TechniqueSpec): TechniqueSpec {
  const rest = { ...spec };
  delete rest.embCache;
  return rest;
}

const hitRateMemo = new Map<string, number>();
const streams = new Map<string, number[]>();

/** The embedding cache's hit rate on the held-out test text read in order (cheap, exact; memoised per process). */
function embHitRate(dir: string, tokenizer: RwkvTokenizer, rows: number, policy: 'fifo' | 'lru'): number {
  const key = `${rwkvChecksum(dir)}:${rows}:${policy}`;
  let rate = hitRateMemo.get(key);
  if (rate === undefined) {
    let stream = streams.get(dir);
    if (!stream) streams.set(dir, (stream = testStream(tokenizer)));
    hitRateMemo.set(key, (rate = hitRates(stream, [rows], policy, 0)[0]!.hitRate));
  }
  return rate;
}

/** What predictEdge needs to know of a setting on this model: measured where lm-eval measured it, else the paper's assumptions. */
export function edgeStatsFor(dir: string, db: ExperimentStore, setting: EdgeSetting, tokenizer?: RwkvTokenizer): EdgeStats {
  const spec = setting.spec;
  const layers = readRwkvConfig(dir).n_layer;
  const { techniques } = accountingOf(spec, measuredStats(db, dir, spec), {}, layers);
  const tok = tokenizer ?? RwkvTokenizer.fromFile(join(dir, 'vocab.json'));
  return {
    density: techniques.sparseFfn?.density.value ?? 1,
    headTouched: techniques.clusterHead?.touched.value ?? 1,
    embHitRate: spec.embCache ? embHitRate(dir, tok, spec.embCache.rows, spec.embCache.policy) : 0,
    sources: {
      ...(techniques.sparseFfn && { density: techniques.sparseFfn.density.source }),
      ...(techniques.clusterHead && { headTouched: techniques.clusterHead.touched.source }),
      ...(spec.embCache && { embHitRate: 'the cache replayed over the held-out test text, passages in order' }),
    },
  };
}

/**
 * The grid with each point's quality: cached ones always; missing ones measured first when `measure`
 * (one lm-eval per distinct quality setting, on `limit` test passages, stored for later plans).
 */
export async function planningContext(
  dir: string,
  db: ExperimentStore,
  opts: { limit?: number; measure?: boolean; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<PlanningContext> {
  const limit = opts.limit ?? EDGE_PLAN_LIMIT;
  const { knobs, points } = planningGrid(dir);
  const tokenizer = RwkvTokenizer.fromFile(join(dir, 'vocab.json'));
  const checksum = rwkvChecksum(dir);
  const factored = !!readRwkvConfig(dir).lowrank;
  const byKey = new Map<string, PointQuality | undefined>();
  const keyOf = (spec: TechniqueSpec) => JSON.stringify(qualityKey(spec, lowRankSource(dir, factored, spec)));
  const cached = (spec: TechniqueSpec) => {
    const q = qualitySpec(spec);
    return cachedLmQuality(
      { checksum, tokenizer, techniques: q, qualityKey: qualityKey(q, lowRankSource(dir, factored, q)) },
      db,
      'test',
      limit,
    );
  };
  const distinct = new Map<string, TechniqueSpec>();
  for (const p of points) distinct.set(keyOf(qualitySpec(p.setting.spec)), qualitySpec(p.setting.spec));
  const missing = [...distinct].filter(([, spec]) => !cached(spec));
  let done = 0;
  if (opts.measure)
    for (const [, spec] of missing) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
      opts.onProgress?.(done, missing.length);
      const lm = await openRwkvDir(dir, { techniques: spec });
      try {
        await lmQuality(lm, db, 'test', limit);
      } finally {
        await lm.release();
      }
      opts.onProgress?.(++done, missing.length);
    }
  for (const [key, spec] of distinct) byKey.set(key, cached(spec));
  const dims = readRwkvDims(dir);
  // What each point holds depends on the model alone, not on the SoC or the request: accounted here, once.
  for (const p of points) residentOf(dims, p.setting);
  return {
    dir,
    dims,
    limit,
    knobs: knobs.map((k) => ({ name: k.name, levels: k.levels.map((l) => l.label) })),
    points: points.map((p) => ({
      ...p,
      quality: byKey.get(keyOf(qualitySpec(p.setting.spec))),
      stats: edgeStatsFor(dir, db, p.setting, tokenizer),
    })),
  };
}

export interface Candidate {
  label: string;
  setting: EdgeSetting;
  prediction: EdgePrediction;
  quality?: PointQuality;
  /** Within the memory budget (predicted peak) and the per-token target. */
  fits: boolean;
}

export interface EdgePlan {
  /** The planner's pick; undefined when nothing fits (see why). */
  pick?: Candidate;
  /** The best point of the exhaustive search over the grid. */
  optimum?: Candidate;
  /** How much worse the pick's perplexity is than the optimum's, % (perplexities within QUALITY_TIE rank by speed). */
  gapPct: number;
  /** Every grid point, predicted (the exhaustive search's view). */
  candidates: Candidate[];
  /** Points the planner predicted. */
  evaluated: number;
  planMs: number;
  exhaustiveMs: number;
  why?: string;
}

export interface EdgeRequest {
  memoryBytes: number;
  tokenMs?: number;
}

/**
 * Perplexities closer than this (relative) are one quality: below what a 40-passage sample resolves, a planner
 * that ranked them apart would buy noise with speed (it chose 30.7 tokens/s over 1,174 for 50.30 against 50.33).
 */
export const QUALITY_TIE = 0.005;

/** How much better a's perplexity is than b's beyond the tie (0 within it; negative when worse). */
function qualityGain(a: Candidate, b: Candidate): number {
  const qa = a.quality!.perplexity;
  const qb = b.quality!.perplexity;
  return Math.abs(qa - qb) <= QUALITY_TIE * Math.min(qa, qb) ? 0 : qb - qa;
}

/** Better quality first (lower perplexity, beyond the tie), then faster, then smaller. */
function better(a: Candidate, b: Candidate): boolean {
  const gain = qualityGain(a, b);
  if (gain !== 0) return gain > 0;
  if (a.prediction.tokenMs !== b.prediction.tokenMs) return a.prediction.tokenMs < b.prediction.tokenMs;
  return a.prediction.peakBytes < b.prediction.peakBytes;
}

export function planEdge(ctx: PlanningContext, cost: CostModel, req: EdgeRequest): EdgePlan {
  const fitsMemory = (p: EdgePrediction) => p.peakBytes <= req.memoryBytes;
  const fitsTime = (p: EdgePrediction) => req.tokenMs === undefined || p.tokenMs <= req.tokenMs;
  const candidate = (i: number): Candidate => {
    const p = ctx.points[i]!;
    const prediction = predictEdge(cost, ctx.dims, p.setting, p.stats);
    return { label: p.label, setting: p.setting, prediction, quality: p.quality, fits: fitsMemory(prediction) && fitsTime(prediction) };
  };

  // The planner: greedy over the knobs, predicting only the points it visits.
  const t0 = performance.now();
  const index = new Map(ctx.points.map((p, i) => [p.levels?.join(','), i]));
  const memo = new Map<number, Candidate>();
  const at = (i: number) => memo.get(i) ?? (memo.set(i, candidate(i)), memo.get(i)!);
  let state = ctx.knobs.map(() => 0);
  let current = at(index.get(state.join(','))!);
  // Each step moves one knob to any of its levels: while the token time misses the target, the move that saves the
  // most time; then the move that gains the most perplexity per byte added; when none gains beyond the tie, the
  // fastest move of equal quality. No state is visited twice, so the climb ends.
  const seen = new Set([state.join(',')]);
  for (;;) {
    let best: { state: number[]; c: Candidate; score: number } | undefined;
    let faster: { state: number[]; c: Candidate } | undefined;
    for (let k = 0; k < state.length; k++)
      for (let level = 0; level < ctx.knobs[k]!.levels.length; level++) {
        const s = state.map((v, j) => (j === k ? level : v));
        if (seen.has(s.join(','))) continue;
        const c = at(index.get(s.join(','))!);
        if (!fitsMemory(c.prediction)) continue;
        let score: number;
        if (!fitsTime(current.prediction)) score = current.prediction.tokenMs - c.prediction.tokenMs;
        else if (!fitsTime(c.prediction) || !c.quality || !current.quality) continue;
        else {
          const gain = qualityGain(c, current);
          const extra = c.prediction.peakBytes - current.prediction.peakBytes;
          score = gain <= 0 ? 0 : extra <= 0 ? Infinity : gain / extra;
          if (gain === 0 && c.prediction.tokenMs < (faster ?? { c: current }).c.prediction.tokenMs) faster = { state: s, c };
        }
        if (score > 0 && (!best || score > best.score)) best = { state: s, c, score };
      }
    const move = best ?? faster;
    if (!move) break;
    state = move.state;
    current = move.c;
    seen.add(state.join(','));
  }
  // The dense model streamed is off the knobs: the planner weighs it against its climb.
  const streamed = ctx.points.findIndex((p) => p.setting.stream);
  const options = [current, ...(streamed >= 0 ? [at(streamed)] : [])].filter((c) => c.fits && c.quality);
  const pick = options.reduce<Candidate | undefined>((a, c) => (!a || better(c, a) ? c : a), undefined);
  const planMs = performance.now() - t0;

  // The exhaustive search over the same grid.
  const t1 = performance.now();
  const candidates = ctx.points.map((_, i) => candidate(i));
  const optimum = candidates
    .filter((c) => c.fits && c.quality)
    .reduce<Candidate | undefined>((a, c) => (!a || better(c, a) ? c : a), undefined);
  const exhaustiveMs = performance.now() - t1;

  const gapPct = pick && optimum ? (100 * (pick.quality!.perplexity - optimum.quality!.perplexity)) / optimum.quality!.perplexity : 0;
  let why: string | undefined;
  if (!pick) {
    const unmeasured = candidates.filter((c) => !c.quality).length;
    const smallest = Math.min(...candidates.map((c) => c.prediction.peakBytes));
    const fastest = Math.min(...candidates.map((c) => c.prediction.tokenMs));
    why = optimum
      ? `the planner's climb found no setting that fits, though ${optimum.label} does (the exhaustive search)`
      : unmeasured === candidates.length
        ? 'no setting has a measured quality yet; plan with measuring on (shardlab plan measures them first)'
        : smallest > req.memoryBytes
          ? `nothing fits in ${(req.memoryBytes / 2 ** 20).toFixed(2)} MiB: the smallest setting needs ${(smallest / 2 ** 20).toFixed(2)} MiB`
          : req.tokenMs !== undefined && fastest > req.tokenMs
            ? `nothing meets ${req.tokenMs} ms per token: the fastest setting takes ${fastest.toFixed(2)} ms`
            : 'no setting meets both the memory budget and the per-token target';
  }
  return { pick, optimum, gapPct, candidates, evaluated: memo.size, planMs, exhaustiveMs, why };
}
