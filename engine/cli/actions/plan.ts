import { UserError } from '../../core/errors.js';
import { storedImportance } from '../../families/bert/importance.js';
import { loadOptimalSolver } from '../../families/bert/plan/optimal.js';
import { planRequest, RANKING_PLANNERS } from '../../families/bert/plan/request.js';
import { openSharded } from '../../families/bert/open.js';
import { CostModel } from '../../soc/cost.js';
import { getSocProfile } from '../../soc/load.js';
import { ExperimentStore } from '../../store/db.js';
import { taskOf } from '../options.js';
import { runSettings, type ThrottleFlags } from '../throttles.js';

export interface PlanFlags extends ThrottleFlags {
  soc: string;
  model: string;
  targetMs: number;
  bufferKb: number;
  planner: string;
  importance: string;
  seq: number;
  db?: string;
  json?: boolean;
}

/** shardlab plan: one request planned for a target latency and preload buffer. */
export async function runPlan(f: PlanFlags): Promise<void> {
  if (!(f.bufferKb >= 0)) throw new UserError(`--buffer-kb must be a number of KB >= 0, got ${f.bufferKb}`);
  const profile = getSocProfile(f.soc);
  const cost = new CostModel(profile, runSettings(profile, f));
  const { model, store } = await openSharded(f.model);
  await model.release();
  const task = store.config.shapeOnly ? undefined : taskOf(store.config, undefined, f.model);
  let importance: number[][] | undefined;
  if (task && RANKING_PLANNERS.includes(f.planner)) {
    const db = ExperimentStore.open(f.db);
    importance = storedImportance(
      db,
      { model: store.checksum, task, split: 'dev', method: f.importance },
      store.config.layers,
      store.config.slices,
    );
    db.close();
    if (!importance)
      throw new UserError(
        `no ${f.importance} importance profile for ${f.model}; run \`shardlab profile --model ${f.model}\` first, or use --planner sti-uniform`,
      );
  }
  if (f.planner === 'optimal') await loadOptimalSolver();
  const o = planRequest({ store, cost, seq: f.seq, importance }, f.planner, f.targetMs, f.bufferKb * 1024);
  const { persistentBytes, planMs } = o;
  const out = {
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
    shards: o.plan.shards,
  };
  if (f.json) return console.log(JSON.stringify(out));
  console.log(
    `${out.planner} on ${profile.id}, target ${f.targetMs} ms, buffer ${f.bufferKb} KB: ${out.layers} layers x ${out.slices} slices`,
  );
  console.log(
    `predicted   ${out.predictedMakespanMs.toFixed(1)} ms (stall ${out.predictedStallMs.toFixed(1)} ms)${out.overshootMs > 0 ? `, misses the target by ${out.overshootMs.toFixed(1)} ms` : ''}`,
  );
  console.log(`preloaded   ${(persistentBytes / 1024).toFixed(1)} KB; planned in ${planMs.toFixed(3)} ms`);
  console.log('bits per shard (layer rows, slice columns; * = preloaded):');
  for (let l = 0; l < out.layers; l++)
    console.log(
      `  L${String(l).padEnd(3)}` +
        o.plan.shards
          .filter((s) => s.layer === l)
          .map((s) => `${s.bits}${s.preload ? '*' : ''}`.padStart(4))
          .join(''),
    );
}
