/**
 * Runs an RWKV sweep (rwkv-types.ts): for every SoC × memory budget × setting, the setting's predicted
 * per-token latency and memory (predictEdge on the SoC's cost model), its quality on the spec's sample of
 * the test split, and a real greedy run of a few tokens in virtual time (runEdge). The planner's rows ask
 * planEdge for each SoC × budget (× token-latency target) over the planning grid.
 *
 * What the predictions know beyond shapes (the predictors' density, the head's share of rows) is read
 * from the measurements on the spec's own sample wherever they exist, not from whatever the experiment
 * store measured most of, so a re-run in another store (a fresh CI home, a developer's) predicts the same.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { lowRankSource, qualityKey, RWKV_DEFINING_FILES, rwkvChecksum } from './compress/assemble.js';
import { BASELINES, baselineSetting, type Baseline } from './edge/baselines.js';
import { openEdge, type EdgeModel } from './edge/open.js';
import { edgeStatsFor, planEdge, planningContext, type Candidate, type PlanningContext } from './edge/planning.js';
import { predictEdge, type EdgePrediction, type EdgeStats } from './edge/predict.js';
import { runEdge } from './edge/run.js';
import type { EdgeSetting } from './edge/tokens.js';
import { cachedLmQuality, LM_TASK, lmQuality, techniquesHash } from './lm-quality.js';
import { readRwkvConfig, readRwkvDims } from './model-dir.js';
import { isRwkvPreset } from './presets.js';
import { RwkvTokenizer } from './tokenizer.js';
import { VirtualClock } from '../../pipeline/clock.js';
import { CostModel, resolveSettings } from '../../soc/cost.js';
import { getSocProfile, loadSocProfiles } from '../../soc/load.js';
import type { SocProfile } from '../../soc/profile.js';
import type { ExperimentStore } from '../../store/db.js';
import type {
  PlannerSetting,
  RwkvRunFigures,
  RwkvSweep,
  RwkvSweepOptions,
  RwkvSweepRow,
  RwkvSweepSpec,
  RwkvSweeps,
} from '../../sweep/rwkv-types.js';

const PLANNER_SETTING: PlannerSetting = 'planner';

/** The paper's speed prompt (rwkv-edge.md §6), as `shardlab run` feeds it. */
export const RWKV_SWEEP_PROMPT = '\nAlice was so tired when she got back home so she went';
/** Passages of the test split quality is measured on unless the spec says otherwise: few, so a sweep takes seconds per setting. */
export const RWKV_SWEEP_LIMIT = 8;
export const RWKV_RUN_TOKENS = 16;
export const RWKV_SETTINGS: readonly string[] = [...BASELINES, PLANNER_SETTING];

const MIB = 2 ** 20;

/** Checks a spec before any work starts (one line per problem); returns the SoC profiles. */
export function checkRwkvSpec(spec: RwkvSweepSpec): SocProfile[] {
  if (isRwkvPreset(spec.model))
    throw new UserError(`${spec.model} is a shape preset with random weights; an RWKV sweep needs a model directory`);
  if (!existsSync(spec.model)) throw new UserError(`${spec.model}: no such model directory`);
  if (!RWKV_DEFINING_FILES.every((f) => existsSync(join(spec.model, f))))
    throw new UserError(`${spec.model}: an RWKV sweep needs a model directory (${RWKV_DEFINING_FILES.join(', ')}), not a single file`);
  const all = loadSocProfiles();
  const profiles = spec.socs.map((id) => getSocProfile(id, all));
  for (const s of spec.settings)
    if (!RWKV_SETTINGS.includes(s)) throw new UserError(`unknown setting "${s}": use some of ${RWKV_SETTINGS.join(', ')}`);
  for (const m of spec.memoryMiB) if (!(m > 0)) throw new UserError(`memory budget ${m} MiB: must be a positive number of MiB`);
  for (const t of spec.tokenMs) if (!(t > 0)) throw new UserError(`token latency target ${t}: must be a positive number of ms`);
  if (spec.tokenMs.length > 0 && !spec.settings.includes(PLANNER_SETTING))
    throw new UserError('--token-ms is a target for the planner; add planner to --settings (the baselines have no target)');
  if (!Number.isInteger(spec.runTokens) || spec.runTokens < 0) throw new UserError(`run tokens ${spec.runTokens}: must be an integer >= 0`);
  if (spec.prompt.length === 0) throw new UserError('--prompt: give some text for the real runs to continue');
  if (!Number.isInteger(spec.limit) || spec.limit < 1) throw new UserError(`--limit ${spec.limit}: must be a positive number of passages`);
  if (spec.socs.length * spec.memoryMiB.length * spec.settings.length === 0)
    throw new UserError('the sweep is empty: give at least one SoC, memory budget and setting');
  return profiles;
}

/** RWKV runs on the CPU (its matrix-vector steps are memory-bound), whatever unit a profile defaults to. */
export function rwkvCost(profile: SocProfile): CostModel {
  return new CostModel(profile, resolveSettings(profile, { computeUnit: 'cpu' }));
}

interface Quality {
  perplexity: number;
  lastWordAccuracy: number;
  tokens: number;
  /** The stored split key of the sample (test~strat8). */
  split: string;
}

/**
 * The predictors' density and the head's share of rows as measured on the sample `split` (a stored split
 * key) for this setting, over what edgeStatsFor knows (the store's largest measurement, or the paper's).
 */
export function sampleStats(dir: string, db: ExperimentStore, setting: EdgeSetting, split: string | undefined, base: EdgeStats): EdgeStats {
  const spec = setting.spec;
  if (!split || (!spec.sparseFfn && !spec.clusterHead)) return base;
  const config = readRwkvConfig(dir);
  const scope = {
    model: rwkvChecksum(dir),
    task: LM_TASK,
    split,
    configHash: techniquesHash(qualityKey(spec, lowRankSource(dir, !!config.lowrank, spec))),
  };
  const value = (metric: string) => db.getQuality({ ...scope, metric })?.value;
  const out: EdgeStats = { ...base, sources: { ...base.sources } };
  if (spec.sparseFfn) {
    const sparsity = Array.from({ length: config.n_layer }, (_, l) => value(`ffn.predictedSparsity.${l}`));
    if (sparsity.every((x) => x !== undefined)) {
      out.density = sparsity.map((x) => 1 - x!);
      out.sources.density = `measured on ${split}`;
    }
  }
  const touched = spec.clusterHead ? value('head.rowsTouched') : undefined;
  if (touched !== undefined) {
    out.headTouched = touched;
    out.sources.headTouched = `measured on ${split}`;
  }
  return out;
}

/** What a sweep knows of one setting: its quality and statistics, and its real runs per SoC. */
interface SettingWork {
  setting: EdgeSetting;
  quality?: Quality;
  stats?: EdgeStats;
  /** SoCs it runs on for real. */
  socs: Set<string>;
  runs: Map<string, RwkvRunFigures>;
}

const keyOfSetting = (s: EdgeSetting) => techniquesHash({ ...s.spec, ...(s.stream && { stream: true }) });

export async function runRwkvSweep(spec: RwkvSweepSpec, db: ExperimentStore, o: RwkvSweepOptions = {}): Promise<RwkvSweep> {
  const profiles = checkRwkvSpec(spec);
  const dir = spec.model;
  const cancelled = () => {
    if (o.signal?.aborted) throw new UserError('sweep cancelled; nothing was stored');
  };
  const costs = new Map(profiles.map((p) => [p.id, rwkvCost(p)]));
  const planner = spec.settings.includes(PLANNER_SETTING);
  const dims = readRwkvDims(dir);
  const targets = spec.tokenMs.length > 0 ? spec.tokenMs : [0];

  // The planner's picks, per SoC × budget × target, over the grid (its qualities measured first when asked:
  // one lm-eval per distinct quality setting), each point's statistics those of the spec's sample.
  const plans = new Map<string, { pick?: Candidate; optimum?: Candidate; why?: string }>();
  const planKey = (soc: string, mib: number, t: number) => `${soc}|${mib}|${t}`;
  if (planner) {
    let ctx = await planningContext(dir, db, {
      limit: spec.limit,
      measure: spec.measure,
      signal: o.signal,
      onProgress: (d, t) => o.onProgress?.(d, t, 'grid'),
    });
    ctx = { ...ctx, points: ctx.points.map((p) => ({ ...p, stats: sampleStats(dir, db, p.setting, p.quality?.split, p.stats) })) };
    if (o.context) ctx = (o.context as (c: PlanningContext) => PlanningContext)(ctx);
    for (const p of profiles)
      for (const mib of spec.memoryMiB)
        for (const t of targets) {
          const plan = planEdge(ctx, costs.get(p.id)!, { memoryBytes: mib * MIB, ...(t > 0 && { tokenMs: t }) });
          plans.set(planKey(p.id, mib, t), { pick: plan.pick, optimum: plan.optimum, why: plan.why });
        }
  }

  // Every distinct setting the rows need, each opened once for its quality and its real runs.
  const work = new Map<string, SettingWork>();
  const need = (setting: EdgeSetting, soc?: string) => {
    const k = keyOfSetting(setting);
    const w = work.get(k) ?? { setting, socs: new Set(), runs: new Map() };
    work.set(k, w);
    if (soc) w.socs.add(soc);
  };
  const baselines = spec.settings.filter((s): s is Baseline => s !== PLANNER_SETTING);
  const baselineSettings = new Map(baselines.map((b) => [b, baselineSetting(dir, b)]));
  for (const b of baselines) for (const p of profiles) need(baselineSettings.get(b)!, spec.runTokens > 0 ? p.id : undefined);
  for (const [key, plan] of plans) if (plan.pick) need(plan.pick.setting, spec.runTokens > 0 ? key.split('|')[0] : undefined);

  const tokenizer = RwkvTokenizer.fromFile(join(dir, 'vocab.json'));
  const checksum = rwkvChecksum(dir);
  const factored = !!readRwkvConfig(dir).lowrank;
  let done = 0;
  for (const w of work.values()) {
    cancelled();
    o.onProgress?.(done, work.size, 'sweep');
    const spec_ = w.setting.spec;
    let model: EdgeModel | undefined;
    try {
      if (spec.measure || w.socs.size > 0) model = await openEdge(dir, w.setting);
      const q = spec.measure
        ? await lmQuality(model!.lm, db, 'test', spec.limit)
        : cachedLmQuality(
            { checksum, tokenizer, techniques: spec_, qualityKey: qualityKey(spec_, lowRankSource(dir, factored, spec_)) },
            db,
            'test',
            spec.limit,
          );
      if (q) w.quality = { perplexity: q.perplexity, lastWordAccuracy: q.lastWordAccuracy, tokens: q.tokens, split: q.split };
      w.stats = sampleStats(dir, db, w.setting, w.quality?.split, edgeStatsFor(dir, db, w.setting, tokenizer));
      if (model)
        for (const soc of w.socs) {
          cancelled();
          w.runs.set(soc, await realRun(model, w.setting, costs.get(soc)!, spec));
        }
    } finally {
      await model?.release();
    }
    o.onProgress?.(++done, work.size, 'sweep');
  }

  const rows: RwkvSweepRow[] = [];
  const push = (r: RwkvSweepRow) => {
    rows.push(r);
    o.onRow?.(r);
  };
  for (const p of profiles) {
    const cost = costs.get(p.id)!;
    for (const mib of spec.memoryMiB)
      for (const s of spec.settings) {
        if (s !== PLANNER_SETTING) {
          const w = work.get(keyOfSetting(baselineSettings.get(s as Baseline)!))!;
          const prediction = predictEdge(cost, dims, w.setting, w.stats!);
          push(row(p.id, s, mib, 0, prediction, w, prediction.peakBytes <= mib * MIB));
          continue;
        }
        for (const t of targets) {
          const plan = plans.get(planKey(p.id, mib, t))!;
          const optimum = plan.optimum && { optimum: plan.optimum.label, optimumPerplexity: plan.optimum.quality?.perplexity };
          if (!plan.pick) {
            push({ ...emptyRow(p.id, mib, t), why: plan.why, ...optimum });
            continue;
          }
          const w = work.get(keyOfSetting(plan.pick.setting))!;
          // The quality the planner chose by (the same measurement as the setting's own, when the sweep measures).
          const q = plan.pick.quality;
          push({
            ...row(p.id, s, mib, t, plan.pick.prediction, { ...w, quality: q && { ...q } }, plan.pick.fits),
            pick: plan.pick.label,
            ...optimum,
          });
        }
      }
  }
  const stored = db.putSweep(
    { spec, modelChecksum: checksum, task: LM_TASK },
    rows.map((r) => ({ ...r, planner: r.setting, targetMs: r.tokenMsTarget, bufferKb: r.memoryMiB * 1024 })),
  );
  return { ...stored, rows };
}

/** A stored RWKV sweep's rows without the columns the store indexes them by. */
export function rwkvRowsOf(rows: unknown[]): RwkvSweepRow[] {
  return rows.map((r) => {
    const copy = { ...(r as Record<string, unknown>) };
    delete copy.planner;
    delete copy.targetMs;
    delete copy.bufferKb;
    return copy as unknown as RwkvSweepRow;
  });
}

async function realRun(model: EdgeModel, setting: EdgeSetting, cost: CostModel, spec: RwkvSweepSpec): Promise<RwkvRunFigures> {
  const tok = model.lm.tokenizer;
  const prompt = [tok.eot, ...tok.encode(spec.prompt)];
  const r = await runEdge({ lm: model.lm, store: model.store, setting, cost, clock: new VirtualClock(), prompt, count: spec.runTokens });
  return {
    tokens: r.generated.length,
    tokensPerSecond: r.tokensPerSecond,
    tokenMsP50: r.tokenLatencyMsP50,
    firstTokenMs: r.firstTokenMs,
    stallMs: r.stallMs,
    makespanMs: r.makespanUs / 1000,
    ioBytesPerToken: r.ioBytesPerToken,
    persistentBytes: r.persistentBytes,
    peakBytes: r.peakBytes,
    text: r.text,
  };
}

function row(soc: string, setting: string, mib: number, target: number, p: EdgePrediction, w: SettingWork, fits: boolean): RwkvSweepRow {
  const run = w.runs.get(soc);
  return {
    soc,
    setting,
    memoryMiB: mib,
    tokenMsTarget: target,
    fits,
    tokensPerSecond: p.tokensPerSecond,
    tokenMs: p.tokenMs,
    firstTokenMs: p.firstTokenMs,
    stallMsPerToken: p.stallMsPerToken,
    ioBytesPerToken: p.ioBytesPerToken,
    persistentBytes: p.persistentBytes,
    peakBytes: p.peakBytes,
    ...(w.quality && {
      perplexity: w.quality.perplexity,
      lastWordAccuracy: w.quality.lastWordAccuracy,
      qualityTokens: w.quality.tokens,
    }),
    ...(run && { run }),
    settingHash: keyOfSetting(w.setting),
  };
}

function emptyRow(soc: string, mib: number, target: number): RwkvSweepRow {
  return {
    soc,
    setting: PLANNER_SETTING,
    memoryMiB: mib,
    tokenMsTarget: target,
    fits: false,
    tokensPerSecond: 0,
    tokenMs: 0,
    firstTokenMs: 0,
    stallMsPerToken: 0,
    ioBytesPerToken: 0,
    persistentBytes: 0,
    peakBytes: 0,
    settingHash: '',
  };
}

/** The family's sweeps as generic code reaches them (ModelFamily.sweeps). */
export const SWEEPS: RwkvSweeps = {
  prompt: RWKV_SWEEP_PROMPT,
  limit: RWKV_SWEEP_LIMIT,
  runTokens: RWKV_RUN_TOKENS,
  settings: RWKV_SETTINGS,
  check: checkRwkvSpec,
  run: runRwkvSweep,
  rowsOf: rwkvRowsOf,
};
