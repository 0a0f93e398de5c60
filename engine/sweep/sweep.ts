/**
 * Runs a sweep: for every SoC × target × buffer × planner, plan the request, execute the plan with the
 * real executor in virtual time, and score the plan with the family's quality oracle. The executor runs
 * dry (every task takes its modeled time, no shard is read or computed): in virtual time a run's timeline
 * and memory do not depend on its real work, and the quality comes from the oracle, which measures each
 * configuration for real. SweepOptions.realWork does the work too, with the same rows. Identical plans
 * on one SoC execute once; identical configurations evaluate once (the oracle caches them in the
 * experiment store). Any registered model family sweeps the same way.
 *
 * The points are planned and executed first (fast); then the configurations the store has no quality
 * for are evaluated, on a pool of threads or through a distributed queue (queue-submit.ts), each answer
 * stored as it arrives; rows are made from the stored answers, so they are the same however evaluated.
 */
import { resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { hostThreads } from '../core/threads.js';
import { familyOf, type FamilyModel, type PlannedRequest, type PlanningRequest, type Split } from '../families/index.js';
import { VirtualClock } from '../pipeline/clock.js';
import type { RunResult } from '../pipeline/executor.js';
import { meetsTarget, type Plan } from '../pipeline/plan.js';
import { costModelOf, resolveSettings, type CostModel } from '../soc/cost.js';
import { getSocProfile, loadSocProfiles } from '../soc/load.js';
import type { SocProfile } from '../soc/profile.js';
import type { ExperimentStore } from '../store/db.js';
import type { EvaluateMissing, EvaluationJob, PendingEvaluation } from './evaluation.js';
import { timed, type Phases } from './phases.js';
import { EvaluationPool } from './pool.js';
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
  /** Threads that evaluate uncached configurations side by side (default: the host's, SHARDLAB_THREADS). */
  workers?: number;
  /** How uncached configurations are evaluated (default: in this process, on `workers` threads); the queue passes its own. */
  evaluate?: EvaluateMissing;
  /** The configurations the sweep will evaluate, once planning has found them, and the sweep's number of points. */
  onPending?: (pending: PendingEvaluation[], points: number) => void;
}

/** A point of the sweep, planned and executed, waiting for its configuration's quality. */
interface Point {
  soc: string;
  planner: string;
  targetMs: number;
  bufferKb: number;
  planned: PlannedRequest;
  run: RunResult;
  /** The configuration hash of its plan: what its quality is stored under. */
  hash: string;
}

type Answer = NonNullable<ReturnType<FamilyModel['cachedQuality']>>;

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
  if (!model.info.task)
    throw new UserError(
      `${spec.model} has no task to measure quality on (a shape-only model, or a checkpoint without shardlab.task); a sweep needs one: pass --data FILE with labelled data of yours`,
    );
  return profiles;
}

/** Runs a sweep; `all` among its planners stands for every planner of the model's family (stored expanded). */
export async function runSweep(asked: SweepSpec, db: ExperimentStore, o: SweepOptions = {}): Promise<Sweep> {
  const family = familyOf(asked.model);
  // Refused before a preset's random-weights model is made (minutes): a sweep scores quality.
  if (family.presets.includes(asked.model))
    throw new UserError(`${asked.model} is a shape preset with random weights; a sweep needs a model trained on a task`);
  const ph = o.phases;
  const model = await timed(ph, 'open', () => family.open(asked.model, { db, ...(asked.data !== undefined && { data: asked.data }) }));
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
    const points: Point[] = [];
    // The configuration hash of each distinct configuration key (hashing every point's plan would cost more).
    const hashes = new Map<string, string>();
    for (const profile of profiles) {
      const cost = costModelOf(profile, resolveSettings(profile));
      // Identical plans on one SoC execute once.
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
            const config = configurationKey(p.plan);
            let hash = hashes.get(config);
            if (hash === undefined) hashes.set(config, (hash = model.configHash(p.plan)));
            points.push({ soc: profile.id, planner, targetMs, bufferKb, planned: p, run: r, hash });
          }
    }
    const where = { split: spec.split, limit: spec.limit };
    const rows: SweepRow[] = [];
    // A configuration's quality is the same on every SoC: hashed, looked up, and measured when missing, once.
    const answers = new Map<string, Answer>();
    const answer = (pt: Point): Answer => {
      let q = answers.get(pt.hash);
      if (!q) {
        q = model.cachedQuality(pt.planned.plan, where);
        if (!q) throw new Error(`configuration ${pt.hash}: evaluated but not in the experiment store`);
        answers.set(pt.hash, q);
      }
      return q;
    };
    // Rows land in the sweep's order, each once its configuration's quality is in the store.
    const ready = new Set<string>();
    const flush = () => {
      while (rows.length < points.length && ready.has(points[rows.length].hash)) {
        const pt = points[rows.length];
        rows.push(row(pt, answer(pt)));
        o.onRow?.(rows[rows.length - 1]);
        o.onProgress?.(rows.length, total, 'sweep');
      }
    };
    const pending = new Map<string, PendingEvaluation>();
    for (const pt of points) {
      if (ready.has(pt.hash) || pending.has(pt.hash)) continue;
      const q = model.cachedQuality(pt.planned.plan, where);
      if (q) {
        answers.set(pt.hash, q);
        ready.add(pt.hash);
      } else pending.set(pt.hash, { key: pt.hash, job: evaluationJob(spec, model, pt, where) });
    }
    flush();
    o.onPending?.([...pending.values()], points.length);
    const evaluate = o.evaluate ?? evaluateLocally(o.workers ?? hostThreads());
    await timed(ph, 'quality', () =>
      evaluate([...pending.values()], {
        db,
        model,
        signal: o.signal,
        stored: (key) => {
          ready.add(key);
          flush();
        },
      }),
    );
    if (rows.length < points.length) throw new Error(`${points.length - rows.length} rows of the sweep have no quality`);
    return timed(ph, 'store', () => db.putSweep({ spec, modelChecksum: model.info.checksum, task: model.info.task! }, rows));
  } finally {
    await model.release();
  }
}

function evaluationJob(spec: SweepSpec, model: FamilyModel, pt: Point, where: Split): EvaluationJob {
  const { family, checksum, task } = model.info;
  // Absolute, so a worker on this machine finds it from any directory (another machine looks under --models by its name).
  const data = spec.data === undefined ? {} : { data: resolve(spec.data) };
  return { model: resolve(spec.model), checksum, family, task: task!, ...data, where, plan: pt.planned.plan, configHash: pt.hash };
}

/**
 * Evaluates in this process, one configuration after another, when one thread is all there is (or one
 * configuration); else on a pool of `threads` worker threads, each answer stored here as it arrives.
 */
export function evaluateLocally(threads: number): EvaluateMissing {
  return async (pending, { db, model, stored, signal }) => {
    if (threads <= 1 || pending.length <= 1) {
      for (const p of pending) {
        if (signal?.aborted) throw new UserError('sweep cancelled; nothing was stored');
        await model.quality(p.job.plan, p.job.where);
        stored(p.key);
      }
      return;
    }
    const pool = new EvaluationPool(Math.min(threads, pending.length));
    const cancel = () => void pool.close();
    signal?.addEventListener('abort', cancel);
    try {
      await Promise.all(
        pending.map(async (p) => {
          db.putQuality(await pool.evaluate(p.job));
          stored(p.key);
        }),
      );
    } catch (e) {
      throw signal?.aborted ? new UserError('sweep cancelled; nothing was stored') : e;
    } finally {
      signal?.removeEventListener('abort', cancel);
      await pool.close();
    }
  };
}

/** What a plan's quality depends on: its shards and their bitwidths (not what is preloaded). */
function configurationKey(p: Plan): string {
  return JSON.stringify([p.layers, p.slices, p.units.map((u) => [u.layer, u.slice, u.bits])]);
}

function planKey(p: Plan): string {
  return JSON.stringify([p.layers, p.slices, p.loadAllFirst, p.units.map((s) => [s.bits, s.preload ? 1 : 0])]);
}

function row(pt: Point, q: { value: number; count: number; configHash: string }): SweepRow {
  const { soc, planner, targetMs, bufferKb, planned: p, run: r } = pt;
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
