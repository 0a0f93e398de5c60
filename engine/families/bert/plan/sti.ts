/**
 * STI's elastic pipeline planner (§5), and its ablations.
 *   Stage 1: the (layers, slices) submodel with the most compute whose per-layer time fits the target.
 *   Stage 2: preload all of layer 0 at the highest bitwidth that fits the buffer; give the other shards the
 *   highest uniform bitwidth that keeps the accumulated IO budget (AIB) non-negative, the spare buffer room
 *   holding the earliest layers' shards at it (most important first); then upgrade streamed shards in
 *   importance order, each to the highest rung every budget still allows.
 *   AIB(k) = k · T_layer − Σ_{j≤k} IO(streamed shards of layer j) must stay ≥ 0 for every layer k, so layer k's
 *   shards are in memory when the compute lane reaches it (with the target's spare time added, see budgetMs).
 * When even 2-bit streaming stalls, the submodel shrinks (slices, then layers); if the smallest still
 * stalls, the plan says by how much.
 * Stage 2 runs in sti-submodel.ts on tables of shard bytes and charges kept across requests (shard-costs.ts).
 */
import type { Timeline } from '../../../pipeline/schedule.js';
import type { CostModel } from '../../../soc/cost.js';
import { computeLayer, type LayerShape } from '../cost.js';
import { predictPlan, type UnitColumns } from '../program.js';
import { codecOfBits, overshootMs, type PlanUnit } from '../../../pipeline/plan.js';
import { bertPlan, type Plan, type ShardPlan } from './plan.js';
import { chargeMs, ShardCosts, type LayerTimes } from './shard-costs.js';
import { SubmodelPlanner, type StiOptions, type SubmodelPlan } from './sti-submodel.js';

const US = 1000;

export type { StiOptions };

export interface PlannerInput {
  cost: CostModel;
  shape: LayerShape;
  layers: number;
  slices: number;
  seq: number;
  /** Bitwidths the store holds. */
  bits: number[];
  /** Stored bytes of a shard; a pure function (the planners keep tables per bytesOf and cost model). */
  bytesOf: (layer: number, slice: number, bits: number) => number;
  targetMs: number;
  bufferBytes: number;
  /** Relative reconstruction error of a shard at b bits (0 for fp32); the optimal planner's surrogate uses it. */
  relativeError?: (layer: number, slice: number, bits: number) => number;
  /** importance[layer][slice], higher = more important (sti profile). */
  importance?: number[][];
  /** Smallest submodel considered (STI: a quarter of the layers and of the slices). */
  minLayers?: number;
  minSlices?: number;
}

export interface PlanOutcome {
  plan: Plan;
  predicted: Timeline;
  /** How far the predicted makespan overshoots the target, ms (0 when it fits). */
  overshootMs: number;
}

/** The compute lane's time per layer with m slices: compute, plus decompression when the CPU computes. */
export function layerTimeMs(input: PlannerInput, m: number): number {
  const { cost, shape, seq } = input;
  const compute = computeLayer(cost, shape, m, seq).totalMs;
  if (cost.settings.computeUnit !== 'cpu') return compute;
  return compute + m * worstDecompressMs(input);
}

function worstDecompressMs(input: PlannerInput): number {
  return Math.max(...input.bits.map((b) => input.cost.decompressMs(b, input.bytesOf(0, 0, b))));
}

export interface Candidate {
  layers: number;
  slices: number;
  fits: boolean;
}

/** Stage 1: candidate submodels, most compute first (ties: more layers), that fit the target; then the rest. */
export function submodelCandidates(input: PlannerInput): Candidate[] {
  return candidatesOf(input, layerTimes(input));
}

/** layerTimeMs for every slice count m (index m). */
function layerTimes(input: PlannerInput): Float64Array {
  return new ShardCosts(input).layerTimes.timeMs;
}

function minSubmodel(input: PlannerInput): { minN: number; minM: number } {
  return {
    minN: input.minLayers ?? Math.max(1, Math.round(input.layers / 4)),
    minM: input.minSlices ?? Math.max(1, Math.round(input.slices / 4)),
  };
}

function candidatesOf(input: PlannerInput, tLayer: Float64Array): Candidate[] {
  const { minN, minM } = minSubmodel(input);
  const out: (Candidate & { work: number })[] = [];
  for (let m = minM; m <= input.slices; m++) {
    const flops = computeLayer(input.cost, input.shape, m, input.seq).flops;
    for (let n = minN; n <= input.layers; n++) out.push({ layers: n, slices: m, work: n * flops, fits: n * tLayer[m] <= input.targetMs });
  }
  return out
    .sort((a, b) => Number(b.fits) - Number(a.fits) || b.work - a.work || b.layers - a.layers)
    .map(({ layers, slices, fits }) => ({ layers, slices, fits }));
}

/**
 * The candidates that fit, in submodelCandidates' order, without sorting them all: for each m those that
 * fit are the n up to the largest that does, and their work falls with n, so the order is a merge of one
 * descending run per m (the next is the head with the most work; ties: more layers).
 */
function* fittingCandidates(input: PlannerInput, { timeMs: tLayer, flops }: LayerTimes): Generator<Candidate> {
  const { minN, minM } = minSubmodel(input);
  const heads = new Int32Array(input.slices + 1); // next n for each m, below minN when the run is done
  for (let m = minM; m <= input.slices; m++) {
    let n = input.layers;
    while (n >= minN && !(n * tLayer[m] <= input.targetMs)) n--;
    heads[m] = n;
  }
  for (;;) {
    let best = -1;
    for (let m = minM; m <= input.slices; m++) {
      if (heads[m] < minN) continue;
      const d = best < 0 ? 1 : heads[m] * flops[m] - heads[best] * flops[best] || heads[m] - heads[best];
      if (d > 0) best = m;
    }
    if (best < 0) return;
    yield { layers: heads[best], slices: best, fits: true };
    heads[best]--;
  }
}

/**
 * What a shard costs against the accumulated IO budget, ms: its IO when streamed, plus its decompression
 * when decompression is a stage of its own (a GPU computes while the CPU decompresses; preloaded shards are
 * stored compressed and decompress too). Adding the two stages' times bounds when a shard is ready from
 * above (ready_i = max(loaded_i, ready_i-1) + dec_i <= Σ io + Σ dec), so the budget stays additive and safe.
 * When the CPU computes, decompression is already in the layer time (layerTimeMs).
 *
 * AIB slack of layer k for a plan's shards: layer k must start by T − (n − k)·T_layer to finish in time; its
 * shards, streamed after all earlier ones, must be in by then. When n·T_layer = T this is STI's AIB(k) =
 * k·T_layer − Σ_{j≤k} IO_j; a shorter submodel leaves the difference as slack (sti-submodel.ts).
 */
export function budgetMs(input: PlannerInput, s: Pick<ShardPlan, 'layer' | 'slice' | 'bits' | 'preload'>): number {
  return chargeMs(input.cost, s.bits, input.bytesOf(s.layer, s.slice, s.bits), s.preload);
}

export function planSti(input: PlannerInput, o: StiOptions = { upgrade: true }): PlanOutcome {
  const costs = new ShardCosts(input);
  const tLayer = costs.layerTimes.timeMs;
  const planner = new SubmodelPlanner(costs, input.targetMs, input.bufferBytes, o);
  try {
    const planned = (c: Candidate) => planner.plan(c.layers, c.slices, tLayer[c.slices]);
    let found: SubmodelPlan | undefined;
    for (const c of fittingCandidates(input, costs.layerTimes)) if ((found = planned(c))) break;
    if (!found) {
      // Nothing fits without stalling: the smallest submodel at the lowest bitwidth, and say by how much.
      const { minN, minM } = minSubmodel(input);
      const smallest = { layers: minN, slices: minM, fits: false };
      found = planned(smallest);
      if (!found) return outcome(input, lowestPlan(input, smallest.layers, smallest.slices));
    }
    return outcomeOf(input, costs, found);
  } finally {
    planner.release();
  }
}

/** The plan and its predicted timeline, the units' bytes and modeled times read from the tables. */
function outcomeOf(input: PlannerInput, costs: ShardCosts, p: SubmodelPlan): PlanOutcome {
  const size = p.n * p.m;
  const units: PlanUnit[] = new Array(size);
  const bytes: number[] = new Array(size);
  const ioUs: number[] = new Array(size);
  const decompressUs: number[] = new Array(size);
  for (let l = 0, i = 0; l < p.n; l++)
    for (let s = 0; s < p.m; s++, i++) {
      const bits = costs.rungs[p.rung[i]];
      const k = p.rows[i] + p.rung[i];
      units[i] = { layer: l, slice: s, bits, preload: p.preload[i] === 1, codec: codecOfBits(bits) };
      bytes[i] = costs.bytesAt[k];
      ioUs[i] = costs.ioAt[k] * US;
      decompressUs[i] = costs.decompressMs(p.rows[i], p.rung[i]) * US;
    }
  const plan: Plan = { family: 'bert', planner: 'sti', layers: p.n, slices: p.m, units, loadAllFirst: false };
  return predicted(input, plan, { columns: { bytes, ioUs, decompressUs } });
}

function lowestPlan(input: PlannerInput, n: number, m: number): Plan {
  const lowest = Math.min(...input.bits);
  const shards: ShardPlan[] = [];
  for (let l = 0; l < n; l++) for (let s = 0; s < m; s++) shards.push({ layer: l, slice: s, bits: lowest, preload: false });
  let room = input.bufferBytes;
  for (const s of shards.filter((x) => x.layer === 0)) {
    const b = input.bytesOf(0, s.slice, lowest);
    if (b > room) break;
    s.preload = true;
    room -= b;
  }
  return bertPlan('sti', n, m, shards);
}

export function outcome(input: PlannerInput, plan: Plan): PlanOutcome {
  return predicted(input, plan, { bytesOf: (s) => input.bytesOf(s.layer, s.slice, s.bits) });
}

function predicted(input: PlannerInput, plan: Plan, units: { bytesOf: (u: PlanUnit) => number } | { columns: UnitColumns }): PlanOutcome {
  const timeline = predictPlan({ plan, cost: input.cost, shape: input.shape, seq: input.seq, ...units });
  return { plan, predicted: timeline, overshootMs: overshootMs(timeline.makespanUs / 1000, input.targetMs) };
}
