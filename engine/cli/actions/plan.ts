import { UserError } from '../../core/errors.js';
import { familyCommand } from '../family-command.js';
import { familyOf, type FamilyModel, type PlannedRequest } from '../../families/index.js';
import { DEFAULT_BUFFER_KB } from '../../pipeline/plan.js';
import type { SocProfile } from '../../soc/profile.js';
import { DEFAULT_IMPORTANCE } from '../defaults.js';
import { CostModel } from '../../soc/cost.js';
import { getSocProfile } from '../../soc/load.js';
import { ExperimentStore } from '../../store/db.js';
import { progressBar } from '../../core/progress.js';
import { runSettings, type ThrottleFlags } from '../../soc/throttles.js';

export interface PlanFlags extends ThrottleFlags {
  soc: string;
  model: string;
  targetMs: number;
  /** RWKV's request (refused for BERT). */
  memoryMb?: number;
  tokenMs?: number;
  /** Default: DEFAULT_BUFFER_KB. */
  bufferKb?: number;
  /** Default: the family's default planner. */
  planner?: string;
  /** Default: DEFAULT_IMPORTANCE. */
  importance?: string;
  seq?: number;
  limit?: number;
  db?: string;
  json?: boolean;
}

/** What planning one request needs, shared by `plan` and `run --planner`. */
export interface Planned {
  model: FamilyModel;
  profile: SocProfile;
  output: PlannedRequest;
  bufferKb: number;
}

/**
 * One request planned as `plan` plans it: a planner that ranks units by importance profiles the model
 * first when its profile is missing (once; stored for later plans). The caller releases the model.
 */
export async function planRequest(f: PlanFlags, db: ExperimentStore, quiet = !!f.json): Promise<Planned> {
  const bufferKb = f.bufferKb ?? DEFAULT_BUFFER_KB;
  if (!(bufferKb >= 0)) throw new UserError(`--buffer-kb must be a number of KB >= 0, got ${f.bufferKb}`);
  const profile = getSocProfile(f.soc);
  const cost = new CostModel(profile, runSettings(profile, f));
  const model = await familyOf(f.model).open(f.model, { db });
  try {
    const planner = f.planner ?? model.plannerNames()[0];
    const known = model.plannerNames();
    if (!known.includes(planner)) throw new UserError(`unknown planner "${planner}": use one of ${known.join(', ')}`);
    const method = f.importance ?? DEFAULT_IMPORTANCE;
    let importance: number[][] | undefined;
    if (model.info.task && model.ranks(planner)) {
      const have = model.importance(f.limit, method);
      if (!have.grid && !quiet)
        console.error(
          `shardlab: no ${method} importance profile of ${f.model} on ${model.info.task} ${have.split} yet; profiling it first (${model.info.layers * model.info.slices} shards), stored for later plans`,
        );
      const bar = progressBar(`importance ${method}`, !quiet);
      importance = (await model.ensureImportance(f.limit, { method, onProgress: (d, t) => bar.update(d, t) })).grid;
      bar.stop();
    }
    await model.preparePlanners([planner]);
    const seq = f.seq ?? model.family.defaultSeq;
    const output = model.plan(cost, { planner, targetMs: f.targetMs, bufferBytes: bufferKb * 1024, seq, importance });
    return { model, profile, output, bufferKb };
  } catch (e) {
    await model.release();
    throw e;
  }
}

/** shardlab plan: BERT's here; a family with its own plan command (RWKV: memory and per-token target) runs that. */
export async function runPlanCommand(f: PlanFlags): Promise<void> {
  if (familyOf(f.model).id !== 'bert') return familyCommand('plan', f.model, f);
  if (f.memoryMb !== undefined || f.tokenMs !== undefined)
    throw new UserError('--memory-mb and --token-ms are for RWKV models; a BERT plan takes --target-ms and --buffer-kb');
  if (f.targetMs === undefined) throw new UserError('a BERT plan needs --target-ms T, the latency it plans for');
  return runPlan(f);
}

/** shardlab plan: one request planned for a target latency and preload buffer, printed. */
export async function runPlan(f: PlanFlags): Promise<void> {
  const db = ExperimentStore.open(f.db);
  try {
    const { model, profile, output: o, bufferKb } = await planRequest(f, db);
    try {
      printPlan(f, profile, o, bufferKb);
    } finally {
      await model.release();
    }
  } finally {
    db.close();
  }
}

function printPlan(f: PlanFlags, profile: SocProfile, o: PlannedRequest, bufferKb: number): void {
  {
    const { persistentBytes, planMs } = o;
    const out = {
      family: o.plan.family,
      planner: o.plan.planner,
      soc: profile.id,
      targetMs: f.targetMs,
      bufferKb,
      layers: o.plan.layers,
      slices: o.plan.slices,
      predictedMakespanMs: o.predicted.makespanUs / 1000,
      predictedStallMs: o.predicted.stallUs / 1000,
      overshootMs: o.overshootMs,
      persistentBytes,
      planMs,
      shards: o.plan.units,
    };
    if (f.json) return console.log(JSON.stringify(out));
    console.log(
      `${out.planner} on ${profile.id}, target ${f.targetMs} ms, buffer ${bufferKb} KB: ${out.layers} layers x ${out.slices} slices`,
    );
    console.log(
      `predicted   ${out.predictedMakespanMs.toFixed(1)} ms (stall ${out.predictedStallMs.toFixed(1)} ms)${out.overshootMs > 0 ? `, misses the target by ${out.overshootMs.toFixed(1)} ms` : ''}`,
    );
    console.log(`preloaded   ${(persistentBytes / 1024).toFixed(1)} KB; planned in ${planMs.toFixed(3)} ms`);
    console.log('bits per unit (layer rows, unit columns; * = preloaded):');
    for (let l = 0; l < out.layers; l++)
      console.log(
        `  L${String(l).padEnd(3)}` +
          o.plan.units
            .filter((s) => s.layer === l)
            .map((s) => `${s.bits}${s.preload ? '*' : ''}`.padStart(4))
            .join(''),
      );
  }
}
