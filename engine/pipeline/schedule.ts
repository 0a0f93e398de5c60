/**
 * Scheduling rules shared by the executor and the planners' timeline prediction, so both agree exactly.
 */
import type { Plan, ShardPlan } from '../families/bert/plan/plan.js';

export type CpuStep = { kind: 'decompress'; shard: ShardPlan } | { kind: 'compute'; layer: number };

/**
 * The CPU lane's order when it also computes: a layer's shards are decompressed, then it computes, then
 * the next layer's shards. With load-then-execute, every shard is decompressed first.
 */
export function cpuOrder(plan: Plan): CpuStep[] {
  const out: CpuStep[] = [];
  const dec = (l: number) => plan.shards.filter((s) => s.layer === l).map((shard) => ({ kind: 'decompress' as const, shard }));
  if (plan.loadAllFirst) {
    for (let l = 0; l < plan.layers; l++) out.push(...dec(l));
    for (let l = 0; l < plan.layers; l++) out.push({ kind: 'compute', layer: l });
    return out;
  }
  for (let l = 0; l < plan.layers; l++) out.push(...dec(l), { kind: 'compute', layer: l });
  return out;
}
