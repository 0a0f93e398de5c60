/** shardlab plan for RWKV models: the techniques that give the best quality within a memory budget and a per-token target. */
import { UserError } from '../../../core/errors.js';
import { progressBar } from '../../../core/progress.js';
import { CostModel } from '../../../soc/cost.js';
import { getSocProfile } from '../../../soc/load.js';
import { runSettings, type ThrottleFlags } from '../../../soc/throttles.js';
import { ExperimentStore } from '../../../store/db.js';
import { requireModelDir } from '../open.js';
import { planEdge, planningContext, EDGE_PLAN_LIMIT, type Candidate } from '../edge/planning.js';

export interface RwkvPlanFlags extends ThrottleFlags {
  soc: string;
  model: string;
  memoryMb?: number;
  tokenMs?: number;
  limit?: number;
  db?: string;
  json?: boolean;
  // BERT's flags, refused here.
  targetMs?: number;
  planner?: string;
  importance?: string;
  seq?: number;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

function summary(c: Candidate | undefined) {
  return (
    c && {
      setting: c.label,
      spec: c.setting.spec,
      stream: !!c.setting.stream,
      perplexity: c.quality?.perplexity,
      lastWordAccuracy: c.quality?.lastWordAccuracy,
      tokensPerSecond: c.prediction.tokensPerSecond,
      tokenMs: c.prediction.tokenMs,
      persistentBytes: c.prediction.persistentBytes,
      peakBytes: c.prediction.peakBytes,
      ioBytesPerToken: c.prediction.ioBytesPerToken,
    }
  );
}

export async function runRwkvPlan(f: RwkvPlanFlags): Promise<boolean | void> {
  if (f.memoryMb === undefined) throw new UserError('an RWKV plan needs --memory-mb M, the memory the model may use (MiB)');
  for (const [flag, v] of [
    ['--target-ms', f.targetMs],
    ['--planner', f.planner],
    ['--importance', f.importance],
    ['--seq', f.seq],
  ] as const)
    if (v !== undefined) throw new UserError(`${flag} is for BERT models; an RWKV plan takes --memory-mb and --token-ms`);
  requireModelDir(f.model, 'an RWKV plan');
  const profile = getSocProfile(f.soc);
  const settings = runSettings(profile, f);
  if (settings.computeUnit === 'gpu') throw new UserError('--unit gpu: RWKV runs on the CPU (its matrix-vector steps are memory-bound)');
  const cost = new CostModel(profile, settings);
  const db = ExperimentStore.open(f.db);
  try {
    const bar = progressBar('measuring grid qualities', !f.json);
    const ctx = await planningContext(f.model, db, {
      limit: f.limit ?? EDGE_PLAN_LIMIT,
      measure: true,
      onProgress: (d, t) => bar.update(d, t),
    });
    bar.stop();
    const plan = planEdge(ctx, cost, { memoryBytes: f.memoryMb * 2 ** 20, tokenMs: f.tokenMs });
    const out = {
      family: 'rwkv',
      soc: profile.id,
      memoryMb: f.memoryMb,
      tokenMs: f.tokenMs,
      quality: `perplexity on ${ctx.points.find((p) => p.quality)?.quality?.split ?? 'test'} (${ctx.limit} passages)`,
      pick: summary(plan.pick),
      optimum: summary(plan.optimum),
      gapPct: plan.gapPct,
      gridPoints: plan.candidates.length,
      fitting: plan.candidates.filter((c) => c.fits).length,
      evaluated: plan.evaluated,
      planMs: plan.planMs,
      exhaustiveMs: plan.exhaustiveMs,
      why: plan.why,
    };
    if (f.json) {
      console.log(JSON.stringify(out));
      return plan.pick ? undefined : false;
    }
    console.log(`RWKV plan on ${profile.id}: memory ${f.memoryMb} MiB${f.tokenMs === undefined ? '' : `, ${f.tokenMs} ms per token`}`);
    if (!plan.pick) {
      console.log(`nothing fits: ${plan.why}`);
      return false;
    }
    const line = (name: string, c: Candidate) =>
      console.log(
        `${name.padEnd(10)} ${c.label}: perplexity ${c.quality!.perplexity.toFixed(2)}, ${c.prediction.tokensPerSecond.toFixed(1)} tokens/s (${c.prediction.tokenMs.toFixed(2)} ms), peak ${mib(c.prediction.peakBytes)} (held ${mib(c.prediction.persistentBytes)})`,
      );
    line('pick', plan.pick);
    line('optimum', plan.optimum!);
    console.log(
      `gap        ${plan.gapPct.toFixed(2)} % perplexity; planned in ${plan.planMs.toFixed(2)} ms (${plan.evaluated} of ${plan.candidates.length} points predicted), exhaustive ${plan.exhaustiveMs.toFixed(2)} ms`,
    );
    console.log(`quality    ${out.quality}; ${out.fitting} of ${out.gridPoints} grid points fit`);
  } finally {
    db.close();
  }
}
