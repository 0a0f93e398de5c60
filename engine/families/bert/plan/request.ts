/**
 * One planning request against an opened shard store and a cost model: builds the planners' input and
 * returns the plan with what the caller reports (persistent memory, time spent planning). The CLI's
 * plan command, sweeps and the workbench all plan through here.
 */
import { PLANNERS } from '../defaults.js';
import { performance } from 'node:perf_hooks';
import type { ShardStore } from '../shard-store.js';
import type { CostModel } from '../../../soc/cost.js';
import { surrogateValue } from './surrogate.js';
import { runPlanner } from './planners.js';
import type { PlannerInput, PlanOutcome } from './sti.js';

export interface PlanningSetup {
  store: ShardStore;
  cost: CostModel;
  /** Sequence length the request computes. */
  seq: number;
  /** importance[layer][slice] from a stored profile; planners that rank shards need it. */
  importance?: number[][];
}

export interface PlanResult extends PlanOutcome {
  /** Bytes of the shards resident in the preload buffer. */
  persistentBytes: number;
  /** Wall-clock time the planner took, ms. */
  planMs: number;
  /** The optimal planner's surrogate objective for this plan (importance-weighted fidelity). */
  surrogate: number;
}

/** Planners that rank shards by a stored importance profile. */
export const RANKING_PLANNERS = PLANNERS.filter((p) => p.ranks).map((p) => p.name);

/**
 * One bytesOf per store, so that the planners' tables (shard-costs.ts), kept per cost model and bytesOf,
 * serve every request on the store.
 */
const storeBytes = new WeakMap<ShardStore, PlannerInput['bytesOf']>();

function bytesOfStore(store: ShardStore): PlannerInput['bytesOf'] {
  let f = storeBytes.get(store);
  if (!f) storeBytes.set(store, (f = (l, s, b) => store.shardBytes(l, s, b)));
  return f;
}

export function plannerInput(setup: PlanningSetup, targetMs: number, bufferBytes: number): PlannerInput {
  const { store } = setup;
  return {
    cost: setup.cost,
    shape: store.config,
    layers: store.config.layers,
    slices: store.config.slices,
    seq: setup.seq,
    bits: store.bits,
    bytesOf: bytesOfStore(store),
    relativeError: (l, s, b) => store.relativeError(l, s, b),
    targetMs,
    bufferBytes,
    importance: setup.importance,
  };
}

export function planRequest(setup: PlanningSetup, planner: string, targetMs: number, bufferBytes: number): PlanResult {
  const input = plannerInput(setup, targetMs, bufferBytes);
  const t0 = performance.now();
  const o = runPlanner(planner, input);
  const planMs = performance.now() - t0;
  const persistentBytes = o.plan.units.filter((s) => s.preload).reduce((a, s) => a + input.bytesOf(s.layer, s.slice, s.bits), 0);
  return { ...o, persistentBytes, planMs, surrogate: surrogateValue(input, o.plan) };
}
