import { UserError } from '../../core/errors.js';
import type { Plan } from '../../pipeline/plan.js';
import { ExperimentStore } from '../../store/db.js';
import { familyCommand } from '../family-command.js';
import { familyOf } from '../../families/index.js';
import { planRequest, type PlanFlags } from './plan.js';

/** The technique flags (technique-options.ts) as commander names them. */
const TECHNIQUE_FLAGS = ['techniques', 'lowrank', 'lowrankKind', 'lowrankInit', 'predictor', 'embCache', 'headClusters', 'int8'] as const;
const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export interface RunCommandFlags extends Omit<PlanFlags, 'targetMs'>, Partial<Record<(typeof TECHNIQUE_FLAGS)[number], unknown>> {
  prompt?: string;
  tokens?: number;
  stream?: boolean;
  targetMs?: number;
  config?: string;
  paradigm?: string;
  bits?: number;
  /** False under --no-warm-up (BERT only; commander defaults it to true). */
  warmUp?: boolean;
}

/**
 * shardlab run: the plan comes from a planner (--planner/--target-ms, planned exactly as `shardlab plan`
 * plans it), a --config file or a --paradigm; the family's run command executes it.
 */
export async function runRunCommand(f: RunCommandFlags): Promise<void> {
  const family = familyOf(f.model).id;
  const rwkvOnly = (['prompt', 'tokens', 'stream', ...TECHNIQUE_FLAGS] as const).filter((k) => f[k] !== undefined);
  if (family === 'bert' && rwkvOnly.length > 0)
    throw new UserError(
      `--${kebab(rwkvOnly[0]!)} is for RWKV models; a BERT run takes a plan (--planner/--target-ms, --config or --paradigm)`,
    );
  if (family === 'rwkv' && (f.planner !== undefined || f.targetMs !== undefined))
    throw new UserError(
      '--planner and --target-ms are for BERT models; an RWKV run takes technique flags (shardlab plan --memory-mb picks them)',
    );
  if (family === 'rwkv' && f.warmUp === false)
    throw new UserError('--no-warm-up is for BERT models; an RWKV run warms only its decoder, always, before the clock starts');
  if (f.planner === undefined && f.targetMs === undefined) return familyCommand('run', f.model, f);
  if (f.targetMs === undefined) throw new UserError(`--planner ${f.planner} needs --target-ms T, the latency it plans for`);
  if (f.config || f.paradigm) throw new UserError('run takes one plan: --planner/--target-ms, or --config FILE, or --paradigm, not both');
  if (f.bits !== undefined) throw new UserError('--bits goes with --paradigm; a planner chooses the bits of every shard');
  const db = ExperimentStore.open(f.db);
  let plan: Plan;
  let bufferKb: number;
  try {
    const planned = await planRequest({ ...f, targetMs: f.targetMs }, db);
    await planned.model.release();
    plan = planned.output.plan;
    bufferKb = planned.bufferKb;
  } finally {
    db.close();
  }
  return familyCommand('run', f.model, { ...f, bufferKb, plan });
}
