/**
 * A plan run through the pipelined executor in virtual time without its real work: no shard is read,
 * decoded or computed, every task just takes its modeled time. Under a VirtualClock the executor's
 * timeline and memory follow from the Program alone (real work takes no modeled time), so the result is
 * the real run's but for the logits; a sweep whose accuracy comes from the oracle needs nothing else.
 * test/sweep-scale.test.ts holds the two runs equal.
 */
import type { Clock } from '../../pipeline/clock.js';
import { execute, type ProgramWork, type RunResult } from '../../pipeline/executor.js';
import type { Plan } from '../../pipeline/plan.js';
import type { TraceEvent } from '../../pipeline/trace.js';
import type { CostModel } from '../../soc/cost.js';
import type { Batch } from './batch.js';
import { activationBytes, bertProgram } from './program.js';
import type { ShardStore } from './shard-store.js';

const NO_WORK: ProgramWork = {
  readResident: () => Buffer.alloc(0),
  read: () => Promise.resolve(Buffer.alloc(0)),
  decode: () => {},
  compute: () => Promise.resolve(),
};

export interface DryRunInput {
  plan: Plan;
  store: ShardStore;
  cost: CostModel;
  clock: Clock;
  batch: Batch;
  onEvent?: (e: TraceEvent) => void;
}

export async function dryRunPlan({ plan, store, cost, clock, batch, onEvent }: DryRunInput): Promise<RunResult> {
  // Under a real clock the run would measure nothing: the work it times is not done.
  if (clock.mode !== 'virtual') throw new Error('a dry run is only meaningful in virtual time');
  const cfg = store.config;
  const program = bertProgram({ plan, cost, shape: cfg, seq: batch.length, bytesOf: (u) => store.shardBytes(u.layer, u.slice, u.bits) });
  const run = await execute({ program, clock, onEvent, activationBytes: activationBytes(batch, cfg.hidden), work: NO_WORK });
  return { ...run, measured: { ...run.measured, endUs: clock.now() } };
}
