import { syntheticTokens } from '../batch.js';
import { DEFAULT_SEQ } from '../defaults.js';
import { writeFileSync } from 'node:fs';
import { AccuracyOracle, type OracleAnswer } from '../oracle.js';
import { formatAccuracy, wilson95 } from '../../../eval/interval.js';
import { executePlan, predictPlan, type ProgramInput } from '../program.js';
import { NO_WARM_UP, type WarmUpReport } from '../warm-up.js';
import { makeBatch, type Batch } from '../batch.js';
import type { ShardStore } from '../shard-store.js';
import { loadTask } from '../datasets.js';
import { UserError } from '../../../core/errors.js';
import { RealClock, VirtualClock } from '../../../pipeline/clock.js';
import { executorThreads } from '../../../pipeline/executor.js';
import { chromeTrace } from '../../../pipeline/trace.js';
import { configurationOf, fillPreload, paradigmPlan, planFromConfiguration, type Paradigm, type Plan } from '../plan/plan.js';
import { readConfiguration, uniformConfiguration } from '../configuration.js';
import { openSharded } from '../open.js';
import { CostModel } from '../../../soc/cost.js';
import { getSocProfile } from '../../../soc/load.js';
import { ExperimentStore } from '../../../store/db.js';
import { taskOf } from '../datasets.js';
import { progressBar } from '../../../core/progress.js';
import { runSettings, type ThrottleFlags } from '../../../soc/throttles.js';

export interface RunFlags extends ThrottleFlags {
  soc: string;
  model: string;
  config?: string;
  paradigm?: Paradigm;
  bits?: number;
  bufferKb?: number;
  mode: 'virtual' | 'real';
  eval?: boolean;
  limit?: number;
  task?: string;
  db?: string;
  json?: boolean;
  trace?: string;
  /** A plan made by a planner (shardlab run --planner), run as it is. */
  plan?: Plan;
  /** False under --no-warm-up: a real-time run starts cold (see warm-up.ts). */
  warmUp?: boolean;
}

const ms = (us: number) => us / 1000;

/** shardlab run: one plan through the pipelined executor under an SoC profile. */
export async function runRun(f: RunFlags): Promise<void> {
  if (!f.plan && !!f.config === !!f.paradigm)
    throw new UserError('run needs exactly one of --config FILE or --paradigm load-exec|layerwise|hold, or --planner NAME --target-ms T');
  if (f.config && f.bits !== undefined) throw new UserError('--bits goes with --paradigm; a --config file sets the bits of every shard');
  if (f.warmUp === false && f.mode !== 'real')
    throw new UserError('--no-warm-up goes with --mode real; a virtual run has no wall time for a warm-up to change');
  const profile = getSocProfile(f.soc);
  const settings = runSettings(profile, f);
  const cost = new CostModel(profile, settings);
  const bar = progressBar('sharding on first use', !f.json);
  const { model, store } = await openSharded(f.model, { threads: executorThreads(settings.cores) }, (d, t) => bar.update(d, t));
  bar.stop();
  const shape = { layers: store.config.layers, slices: store.config.slices, bits: store.bits };
  let plan: Plan;
  if (f.plan) plan = f.plan;
  else if (f.config) plan = planFromConfiguration('config', readConfiguration(f.config, shape));
  else {
    // --bits goes with --paradigm only; a --config file carries its own bitwidths, checked by readConfiguration.
    const bits = f.bits ?? 32;
    if (!store.bits.includes(bits))
      throw new UserError(`--bits ${bits}${f.bits === undefined ? ' (the default)' : ''}: the shard store holds ${store.bits.join(', ')}`);
    plan = paradigmPlan(f.paradigm!, uniformConfiguration(shape.layers, shape.slices, bits));
  }
  if (f.bufferKb && !f.plan) plan = fillPreload(plan, (s) => store.shardBytes(s.layer, s.slice, s.bits), f.bufferKb * 1024);
  const shapeOnly = !!store.config.shapeOnly;
  if (shapeOnly && f.eval) throw new UserError(`--eval: ${f.model} is a shape-only model with random weights; accuracy is not applicable`);
  const task = shapeOnly ? undefined : taskOf(store.config, f.task, f.model);
  const tokens = task
    ? model.tokenizer.encode(loadTask(task, 'dev').examples[0].text)
    : syntheticTokens(DEFAULT_SEQ, store.config.vocabSize);
  const batch = makeBatch([tokens]);
  const real = f.mode === 'real';
  const clock = real ? new RealClock() : new VirtualClock();
  const r = await executePlan({ plan, store, model, cost, clock, batch, warmUp: real && f.warmUp !== false });
  const warm = real ? (r.warmUp ?? NO_WARM_UP) : undefined;
  let quality: OracleAnswer | undefined;
  if (f.eval) {
    const db = ExperimentStore.open(f.db);
    quality = await new AccuracyOracle(model, store, db, task!, 'dev', f.limit).accuracy(configurationOf(plan));
    db.close();
  }
  await model.release();
  const out = {
    soc: profile.id,
    planner: plan.planner,
    mode: f.mode,
    settings,
    layers: plan.layers,
    slices: plan.slices,
    tokens: batch.length,
    makespanMs: ms(r.makespanUs),
    // Real time only: the modeled makespan it is paced to, and what was warmed before the clock started.
    predictedMakespanMs: real ? predictPlan(programInput(plan, cost, store, batch)).makespanUs / 1000 : undefined,
    warmUp: warm,
    stallMs: ms(r.stallUs),
    ioBusyMs: ms(r.ioBusyUs),
    decompressBusyMs: ms(r.decompressBusyUs),
    computeBusyMs: ms(r.computeBusyUs),
    ioBytes: r.ioBytes,
    persistentBytes: r.persistentBytes,
    peakBytes: r.peakBytes,
    // Only with --eval: JSON.stringify leaves an undefined accuracy out.
    accuracy: quality?.accuracy,
    examples: quality?.examples,
    accuracyInterval: quality && wilson95(quality.accuracy, quality.examples),
    memoryByCategory: r.memoryByCategory,
    overruns: r.overruns.length,
  };
  if (f.trace) writeFileSync(f.trace, JSON.stringify(chromeTrace(r.events, r.memory, { ...out, settings: undefined })));
  if (r.overruns.length > 0) {
    const worst = r.overruns.reduce((a, o) => (o.actualUs - o.modeledUs > a.actualUs - a.modeledUs ? o : a));
    console.error(
      `shardlab: warning: this host is slower than the modeled ${profile.id} for ${r.overruns.length} task(s) (worst: ${worst.stage} of layer ${worst.layer} took ${ms(worst.actualUs).toFixed(1)} ms, modeled ${ms(worst.modeledUs).toFixed(1)} ms); the real-time timeline runs late there`,
    );
  }
  if (f.json) return console.log(JSON.stringify(out));
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MB`;
  console.log(
    `${plan.planner} on ${profile.id} (${settings.computeUnit}, ${settings.cores} x ${cost.cluster.id}), ${f.mode} time, ${plan.layers} layers x ${plan.slices} slices, ${batch.length} tokens`,
  );
  const ratio =
    out.predictedMakespanMs &&
    ` (modeled ${out.predictedMakespanMs.toFixed(1)} ms, real/modeled ${(out.makespanMs / out.predictedMakespanMs).toFixed(3)})`;
  console.log(`makespan    ${out.makespanMs.toFixed(1)} ms${ratio ?? ''}`);
  if (warm) console.log(warmUpLines(warm).join('\n'));
  console.log(`stall       ${out.stallMs.toFixed(1)} ms`);
  console.log(
    `busy        io ${out.ioBusyMs.toFixed(1)} ms, decompress ${out.decompressBusyMs.toFixed(1)} ms, compute ${out.computeBusyMs.toFixed(1)} ms`,
  );
  console.log(`memory      persistent ${mb(out.persistentBytes)}, peak ${mb(out.peakBytes)}; streamed ${mb(out.ioBytes)}`);
  const byCategory = Object.entries(r.memoryByCategory).map(([c, m]) => `${c} ${mb(m.persistent + m.peak)}`);
  console.log(`  by kind   ${byCategory.join(', ')} (each at its own peak)`);
  if (quality) console.log(`accuracy    ${formatAccuracy(quality.accuracy, quality.examples)} (95 %, ${quality.examples} dev examples)`);
  if (f.trace) console.log(`trace       ${f.trace}`);
}

function programInput(plan: Plan, cost: CostModel, store: ShardStore, batch: Batch): ProgramInput {
  return { plan, cost, shape: store.config, seq: batch.length, bytesOf: (u) => store.shardBytes(u.layer, u.slice, u.bits) };
}

/** The text output's account of the warm-up (or of its absence). */
function warmUpLines(w: WarmUpReport): string[] {
  if (!w.done) return ['warm-up     none (--no-warm-up): the request paid the first read, decode and session runs'];
  return [
    `warm-up     ${w.ms.toFixed(1)} ms before the clock started:`,
    ...w.steps.map((s) => `  ${s.ms.toFixed(1).padStart(7)} ms  ${s.what}`),
    `  page cache ${w.pageCache}`,
  ];
}
