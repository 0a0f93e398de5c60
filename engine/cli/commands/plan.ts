import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { ensureImportance } from '../../families/bert/importance.js';
import { AccuracyOracle } from '../../families/bert/oracle.js';
import { loadOptimalSolver } from '../../families/bert/plan/optimal.js';
import { planRequest, RANKING_PLANNERS } from '../../families/bert/plan/request.js';
import { openSharded } from '../../families/bert/open.js';
import { CostModel } from '../../soc/cost.js';
import { getSocProfile } from '../../soc/load.js';
import { ExperimentStore } from '../../store/db.js';
import { positiveInt, taskOf } from '../options.js';
import { progressBar } from '../progress.js';
import { runSettings, throttleOptions, type ThrottleFlags } from '../throttles.js';

interface PlanFlags extends ThrottleFlags {
  soc: string;
  model: string;
  targetMs: number;
  bufferKb: number;
  planner: string;
  importance: string;
  seq: number;
  limit?: number;
  db?: string;
  json?: boolean;
}

export function registerPlan(program: Command): void {
  const cmd = program
    .command('plan')
    .description(
      'plan a request for a target latency and preload buffer with STI or a baseline; prints the plan and its predicted timeline',
    )
    .requiredOption('--soc <id>', 'SoC profile id')
    .requiredOption('--model <dir>', 'checkpoint directory, shard store, or shape preset')
    .requiredOption('--target-ms <t>', 'target latency, ms', positiveInt('--target-ms'))
    .option('--buffer-kb <k>', 'preload buffer capacity, KB', (v: string) => Number(v), 0)
    .option('--planner <name>', 'sti | optimal | sti-nobuffer | sti-uniform | submodel | load-exec-B | stdpl-B | hold-B', 'sti')
    .option('--importance <method>', 'stored importance profile to rank shards by: sti:32/2 (shardlab profile) or drop:32/2', 'sti:32/2')
    .option('--seq <tokens>', 'sequence length', positiveInt('--seq'), 128)
    .option('--limit <k>', 'the importance profile of the first K dev examples (as `shardlab profile --limit K` stores it)', positiveInt('--limit'))
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object');
  throttleOptions(cmd).action(async (f: PlanFlags) => {
    if (!(f.bufferKb >= 0)) throw new UserError(`--buffer-kb must be a number of KB >= 0, got ${f.bufferKb}`);
    const profile = getSocProfile(f.soc);
    const cost = new CostModel(profile, runSettings(profile, f));
    const { model, store } = await openSharded(f.model);
    let importance: number[][] | undefined;
    try {
      const task = store.config.shapeOnly ? undefined : taskOf(store.config, undefined, f.model);
      if (task && RANKING_PLANNERS.includes(f.planner)) {
        const db = ExperimentStore.open(f.db);
        try {
          // A ranking planner without a stored profile profiles it first (once; stored for later plans).
          const oracle = new AccuracyOracle(model, store, db, task, 'dev', f.limit);
          const bar = progressBar(`importance ${f.importance}`, !f.json);
          let announced = false;
          const r = await ensureImportance(oracle, db, store, f.importance, (done, total) => {
            if (!announced && done < total)
              console.error(
                `shardlab: no ${f.importance} importance profile of ${f.model} on ${task} ${oracle.splitKey} yet; profiling it first (${total} shards), stored for later plans`,
              );
            announced = true;
            bar.update(done, total);
          });
          bar.stop();
          importance = r.grid;
        } finally {
          db.close();
        }
      }
    } finally {
      await model.release();
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
    console.log('bits per shard (layer rows, slice columns; * = preloaded):');
    for (let l = 0; l < out.layers; l++)
      console.log(
        `  L${String(l).padEnd(3)}` +
          o.plan.units
            .filter((s) => s.layer === l)
            .map((s) => `${s.bits}${s.preload ? '*' : ''}`.padStart(4))
            .join(''),
      );
  });
}
