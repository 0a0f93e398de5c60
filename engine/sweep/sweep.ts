/**
 * Runs a sweep: for every SoC × target × buffer × planner, plan the request, execute the plan with the
 * real executor in virtual time, and score the plan with the family's quality oracle. The executor runs
 * dry (every task takes its modeled time, no shard is read or computed): in virtual time a run's timeline
 * and memory do not depend on its real work, and the quality comes from the oracle, which measures each
 * configuration for real. SweepOptions.realWork does the work too, with the same rows. Identical plans
 * on one SoC execute once; identical configurations evaluate once (the oracle caches them in the
 * experiment store). Any registered model family sweeps the same way.
 */
import { UserError } from '../core/errors.js';
import { familyOf, type FamilyModel, type PlannedRequest, type PlanningRequest } from '../families/index.js';
import { VirtualClock } from '../pipeline/clock.js';
import type { RunResult } from '../pipeline/executor.js';
import { meetsTarget, type Plan } from '../pipeline/plan.js';
import { CostModel, resolveSettings } from '../soc/cost.js';
import { getSocProfile, loadSocProfiles } from '../soc/load.js';
import type { SocProfile } from '../soc/profile.js';
import type { ExperimentStore } from '../store/db.js';
import { timed, type Phases } from './phases.js';
import type { Sweep, SweepRow, SweepSpec } from './types.js';

export interface SweepOptions {
  onProgress?: (done: number, total: number, stage: 'importance' | 'sweep') => void;
  /** Each row as it lands, before the sweep is stored (a terminal prints it at once). */
  onRow?: (row: SweepRow) => void;
  signal?: AbortSignal;
  /** The planning step; tests substitute a perturbed planner to prove regressions are caught. */
  plan?: (model: FamilyModel, cost: CostModel, req: PlanningRequest) => PlannedRequest;
  /** Do each run's real work (reads, dequantization, compute) as well: the same rows, many times slower. */
  realWork?: boolean;
  /** Accumulates each phase's milliseconds (bench/sweep-scale.ts). */
  phases?: Phases;
}

/** Checks a spec against the model and the SoC profiles before any work starts (one line per problem); returns the profiles. */
export function checkSpec(spec: SweepSpec, model: FamilyModel): SocProfile[] {
  const all = loadSocProfiles();
  const profiles = spec.socs.map((id) => getSocProfile(id, all));
  const known = model.plannerNames();
  for (const p of spec.planners) if (!known.includes(p)) throw new UserError(`unknown planner "${p}": use some of ${known.join(', ')}`);
  for (const t of spec.targetsMs) if (!(t > 0)) throw new UserError(`target latency ${t}: must be a positive number of ms`);
  for (const b of spec.buffersKb) if (!(b >= 0)) throw new UserError(`buffer ${b}: must be a number of KB >= 0`);
  if (spec.socs.length * spec.targetsMs.length * spec.buffersKb.length * spec.planners.length === 0)
    throw new UserError('the sweep is empty: give at least one SoC, target, buffer and planner');
  if (!model.info.task) throw new UserError(`${spec.model} is a shape-only model with random weights; a sweep needs its quality`);
  return profiles;
}

/** Runs a sweep; `all` among its planners stands for every planner of the model's family (stored expanded). */
export async function runSweep(asked: SweepSpec, db: ExperimentStore, o: SweepOptions = {}): Promise<Sweep> {
  const family = familyOf(asked.model);
  // Refused before a preset's random-weights model is made (minutes): a sweep scores quality.
  if (family.presets.includes(asked.model))
    throw new UserError(`${asked.model} is a shape preset with random weights; a sweep needs a model trained on a task`);
  const ph = o.phases;
  const model = await timed(ph, 'open', () => family.open(asked.model, { db }));
  const spec = asked.planners.includes('all') ? { ...asked, planners: model.plannerNames() } : asked;
  try {
    const profiles = checkSpec(spec, model);
    // Importance is always profiled on dev (the split quality is reported on may be test).
    const importance = spec.planners.some((p) => model.ranks(p))
      ? (
          await timed(ph, 'importance', () =>
            model.ensureImportance(spec.limit, { method: spec.importance, onProgress: (d, t) => o.onProgress?.(d, t, 'importance') }),
          )
        ).grid
      : undefined;
    await timed(ph, 'open', () => model.preparePlanners(spec.planners));
    const plan = o.plan ?? ((m: FamilyModel, cost: CostModel, req: PlanningRequest) => m.plan(cost, req));
    const total = spec.socs.length * spec.targetsMs.length * spec.buffersKb.length * spec.planners.length;
    const rows: SweepRow[] = [];
    // A configuration's quality is the same on every SoC: asked of the oracle (hashed, looked up) once.
    const qualities = new Map<string, ReturnType<FamilyModel['quality']>>();
    const quality = (p: Plan) => {
      const key = configurationKey(p);
      let q = qualities.get(key);
      if (!q) {
        q = model.quality(p, { split: spec.split, limit: spec.limit });
        qualities.set(key, q);
      }
      return q;
    };
    for (const profile of profiles) {
      const cost = new CostModel(profile, resolveSettings(profile));
      const runs = new Map<string, RunResult>();
      for (const targetMs of spec.targetsMs)
        for (const bufferKb of spec.buffersKb)
          for (const planner of spec.planners) {
            if (o.signal?.aborted) throw new UserError('sweep cancelled; nothing was stored');
            const p = timed(ph, 'plan', () =>
              plan(model, cost, { planner, targetMs, bufferBytes: bufferKb * 1024, seq: spec.seq, importance }),
            );
            const key = planKey(p.plan);
            let r = runs.get(key);
            if (!r) {
              r = await timed(ph, 'execute', () =>
                model.run(p.plan, cost, new VirtualClock(), { split: spec.split, seq: spec.seq, dryRun: !o.realWork }),
              );
              runs.set(key, r);
            }
            const q = await timed(ph, 'quality', () => quality(p.plan));
            rows.push(row(profile.id, planner, targetMs, bufferKb, p, r, q));
            o.onRow?.(rows[rows.length - 1]);
            o.onProgress?.(rows.length, total, 'sweep');
          }
    }
    return timed(ph, 'store', () => db.putSweep({ spec, modelChecksum: model.info.checksum, task: model.info.task! }, rows));
  } finally {
    await model.release();
  }
}

/** What a plan's quality depends on: its shards and their bitwidths (not what is preloaded). */
function configurationKey(p: Plan): string {
  return JSON.stringify([p.layers, p.slices, p.units.map((u) => [u.layer, u.slice, u.bits])]);
}

function planKey(p: Plan): string {
  return JSON.stringify([p.layers, p.slices, p.loadAllFirst, p.units.map((s) => [s.bits, s.preload ? 1 : 0])]);
}

function row(
  soc: string,
  planner: string,
  targetMs: number,
  bufferKb: number,
  p: PlannedRequest,
  r: RunResult,
  q: { value: number; count: number; configHash: string },
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
    accuracy: q.value,
    examples: q.count,
    makespanMs,
    stallMs: r.stallUs / 1000,
    persistentBytes: r.persistentBytes,
    peakBytes: r.peakBytes,
    deadlineMet: meetsTarget(makespanMs, targetMs),
    withinBudget: r.persistentBytes <= bufferKb * 1024,
    configHash: q.configHash,
    surrogate: p.surrogate,
    shards: plan.units.map((u) => ({ layer: u.layer, slice: u.slice, bits: u.bits, preload: u.preload })),
    events: r.events,
  };
}
