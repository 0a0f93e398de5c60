/**
 * Runs a sweep: for every SoC × target × buffer × planner, plan the request, execute the plan with the
 * real executor in virtual time (real reads, dequantization and compute; modeled time), and score the
 * plan's configuration with the accuracy oracle. Identical plans on one SoC execute once; identical
 * configurations evaluate once (the oracle caches them in the experiment store).
 */
import { AccuracyOracle } from '../families/bert/oracle.js';
import { ensureImportance } from '../families/bert/importance.js';
import { makeBatch, type Batch } from '../families/bert/batch.js';
import type { BertModel } from '../families/bert/model.js';
import { loadTask, requireTask, type TaskName } from '../families/bert/datasets.js';
import { UserError } from '../core/errors.js';
import { VirtualClock } from '../pipeline/clock.js';
import type { RunResult } from '../pipeline/executor.js';
import { executePlan } from '../families/bert/program.js';
import { configurationOf, type Plan } from '../families/bert/plan/plan.js';
import { loadOptimalSolver } from '../families/bert/plan/optimal.js';
import { plannerNames } from '../families/bert/plan/planners.js';
import { planRequest, RANKING_PLANNERS, type PlanningSetup, type PlanResult } from '../families/bert/plan/request.js';
import { configurationHash } from '../families/bert/configuration.js';
import { openSharded } from '../families/bert/open.js';
import type { ShardStore } from '../families/bert/shard-store.js';
import { CostModel, resolveSettings } from '../soc/cost.js';
import { getSocProfile, loadSocProfiles } from '../soc/load.js';
import type { SocProfile } from '../soc/profile.js';
import type { ExperimentStore } from '../store/db.js';
import type { Sweep, SweepRow, SweepSpec } from './types.js';

export interface SweepOptions {
  onProgress?: (done: number, total: number, stage: 'importance' | 'sweep') => void;
  signal?: AbortSignal;
  /** The planning step; tests substitute a perturbed planner to prove regressions are caught. */
  plan?: (setup: PlanningSetup, planner: string, targetMs: number, bufferBytes: number) => PlanResult;
}

const IMPORTANCE = /^(sti|drop):(\d+)\/(\d+)$/;

/** Checks a spec against the model and the SoC profiles before any work starts (one line per problem); returns the profiles. */
export function checkSpec(spec: SweepSpec, store: ShardStore): SocProfile[] {
  const all = loadSocProfiles();
  const profiles = spec.socs.map((id) => getSocProfile(id, all));
  const known = plannerNames(store.bits);
  for (const p of spec.planners) if (!known.includes(p)) throw new UserError(`unknown planner "${p}": use some of ${known.join(', ')}`);
  for (const t of spec.targetsMs) if (!(t > 0)) throw new UserError(`target latency ${t}: must be a positive number of ms`);
  for (const b of spec.buffersKb) if (!(b >= 0)) throw new UserError(`buffer ${b}: must be a number of KB >= 0`);
  if (spec.socs.length * spec.targetsMs.length * spec.buffersKb.length * spec.planners.length === 0)
    throw new UserError('the sweep is empty: give at least one SoC, target, buffer and planner');
  if (!IMPORTANCE.test(spec.importance)) throw new UserError(`importance "${spec.importance}": use METHOD:HIGH/LOW, e.g. sti:32/2`);
  return profiles;
}

/** The request every run executes: the first example of the split with at least `seq` tokens, cut to `seq`. */
export function requestBatch(model: BertModel, task: TaskName, split: 'dev' | 'test', seq: number): Batch {
  let best: Int32Array | undefined;
  for (const e of loadTask(task, split).examples) {
    const ids = model.tokenizer.encode(e.text);
    if (!best || ids.length > best.length) best = Int32Array.from(ids);
    if (ids.length >= seq) break;
  }
  if (!best) throw new UserError(`task ${task} has no ${split} examples`);
  return makeBatch([best.length > seq ? best.subarray(0, seq) : best]);
}

export async function runSweep(spec: SweepSpec, db: ExperimentStore, o: SweepOptions = {}): Promise<Sweep> {
  const { model, store } = await openSharded(spec.model);
  try {
    const profiles = checkSpec(spec, store);
    if (store.config.shapeOnly) throw new UserError(`${spec.model} is a shape-only model with random weights; a sweep needs accuracy`);
    const task = requireTask(store.config.task ?? '');
    const oracle = new AccuracyOracle(model, store, db, task, spec.split, spec.limit);
    const oracleDev = spec.split === 'dev' ? oracle : new AccuracyOracle(model, store, db, task, 'dev', spec.limit);
    const importance = spec.planners.some((p) => RANKING_PLANNERS.includes(p))
      ? (await ensureImportance(oracleDev, db, store, spec.importance, (d, t) => o.onProgress?.(d, t, 'importance'))).grid
      : undefined;
    const batch = requestBatch(model, task, spec.split, spec.seq);
    if (spec.planners.includes('optimal')) await loadOptimalSolver();
    const plan = o.plan ?? planRequest;
    const total = spec.socs.length * spec.targetsMs.length * spec.buffersKb.length * spec.planners.length;
    const rows: SweepRow[] = [];
    for (const profile of profiles) {
      const soc = profile.id;
      const cost = new CostModel(profile, resolveSettings(profile));
      const setup: PlanningSetup = { store, cost, seq: batch.length, importance };
      const runs = new Map<string, RunResult>();
      for (const targetMs of spec.targetsMs)
        for (const bufferKb of spec.buffersKb)
          for (const planner of spec.planners) {
            if (o.signal?.aborted) throw new UserError('sweep cancelled; nothing was stored');
            const p = plan(setup, planner, targetMs, bufferKb * 1024);
            const key = planKey(p.plan);
            let r = runs.get(key);
            if (!r) {
              r = await executePlan({ plan: p.plan, store, model, cost, clock: new VirtualClock(), batch });
              runs.set(key, r);
            }
            const c = configurationOf(p.plan);
            const { accuracy } = await oracle.accuracy(c);
            rows.push(row(soc, planner, targetMs, bufferKb, p, r, accuracy, configurationHash(c)));
            o.onProgress?.(rows.length, total, 'sweep');
          }
    }
    return db.putSweep({ spec, modelChecksum: store.checksum, task }, rows);
  } finally {
    await model.release();
  }
}

function planKey(p: Plan): string {
  return JSON.stringify([p.layers, p.slices, p.loadAllFirst, p.units.map((s) => [s.bits, s.preload ? 1 : 0])]);
}

function row(
  soc: string,
  planner: string,
  targetMs: number,
  bufferKb: number,
  p: PlanResult,
  r: RunResult,
  accuracy: number,
  configHash: string,
): SweepRow {
  const makespanMs = r.makespanUs / 1000;
  const plan = p.plan;
  return {
    soc,
    planner,
    targetMs,
    bufferKb,
    layers: plan.layers,
    slices: plan.slices,
    accuracy,
    makespanMs,
    stallMs: r.stallUs / 1000,
    persistentBytes: r.persistentBytes,
    peakBytes: r.peakBytes,
    deadlineMet: makespanMs <= targetMs + 1e-6,
    withinBudget: r.persistentBytes <= bufferKb * 1024,
    configHash,
    surrogate: p.surrogate,
    shards: plan.units,
    events: r.events,
  };
}
