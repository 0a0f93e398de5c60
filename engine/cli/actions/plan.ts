import { UserError } from '../../core/errors.js';
import { familyOf } from '../../families/index.js';
import { CostModel } from '../../soc/cost.js';
import { getSocProfile } from '../../soc/load.js';
import { ExperimentStore } from '../../store/db.js';
import { progressBar } from '../../core/progress.js';
import { runSettings, type ThrottleFlags } from '../../soc/throttles.js';

export interface PlanFlags extends ThrottleFlags {
  soc: string;
  model: string;
  targetMs: number;
  bufferKb: number;
  planner: string;
  importance: string;
  seq?: number;
  limit?: number;
  db?: string;
  json?: boolean;
}

/**
 * shardlab plan: one request planned for a target latency and preload buffer. A planner that ranks units
 * by importance profiles the model first when its profile is missing (once; stored for later plans).
 */
export async function runPlan(f: PlanFlags): Promise<void> {
  if (!(f.bufferKb >= 0)) throw new UserError(`--buffer-kb must be a number of KB >= 0, got ${f.bufferKb}`);
  const profile = getSocProfile(f.soc);
  const cost = new CostModel(profile, runSettings(profile, f));
  const db = ExperimentStore.open(f.db);
  const model = await familyOf(f.model).open(f.model, { db });
  try {
    const known = model.plannerNames();
    if (!known.includes(f.planner)) throw new UserError(`unknown planner "${f.planner}": use one of ${known.join(', ')}`);
    let importance: number[][] | undefined;
    if (model.info.task && model.ranks(f.planner)) {
      const have = model.importance(f.limit, f.importance);
      if (!have.grid && !f.json)
        console.error(
          `shardlab: no ${f.importance} importance profile of ${f.model} on ${model.info.task} ${have.split} yet; profiling it first (${model.info.layers * model.info.slices} shards), stored for later plans`,
        );
      const bar = progressBar(`importance ${f.importance}`, !f.json);
      importance = (await model.ensureImportance(f.limit, { method: f.importance, onProgress: (d, t) => bar.update(d, t) })).grid;
      bar.stop();
    }
    await model.preparePlanners([f.planner]);
    const seq = f.seq ?? model.family.defaultSeq;
    const o = model.plan(cost, { planner: f.planner, targetMs: f.targetMs, bufferBytes: f.bufferKb * 1024, seq, importance });
    const { persistentBytes, planMs } = o;
    const out = {
      family: model.family.id,
      planner: o.plan.planner,
      soc: profile.id,
      targetMs: f.targetMs,
      bufferKb: f.bufferKb,
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
      `${out.planner} on ${profile.id}, target ${f.targetMs} ms, buffer ${f.bufferKb} KB: ${out.layers} layers x ${out.slices} slices`,
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
  } finally {
    await model.release();
    db.close();
  }
}
