/**
 * STI's elastic pipeline planner (§5), and its ablations.
 *   Stage 1: the (layers, slices) submodel with the most compute whose per-layer time fits the target.
 *   Stage 2: preload all of layer 0 at the highest bitwidth that fits the buffer; give the other shards the
 *   highest uniform bitwidth that keeps the accumulated IO budget (AIB) non-negative, the spare buffer room
 *   holding the earliest layers' shards at it (most important first); then upgrade streamed shards in
 *   importance order, each to the highest rung every budget still allows.
 *   AIB(k) = k · T_layer − Σ_{j≤k} IO(streamed shards of layer j) must stay ≥ 0 for every layer k, so layer k's
 *   shards are in memory when the compute lane reaches it (with the target's spare time added, see budget).
 * When even 2-bit streaming stalls, the submodel shrinks (slices, then layers); if the smallest still
 * stalls, the plan says by how much.
 */
import type { Timeline } from '../../../pipeline/schedule.js';
import type { CostModel } from '../../../soc/cost.js';
import { computeLayer, type LayerShape } from '../cost.js';
import { predictPlan } from '../program.js';
import { overshootMs } from '../../../pipeline/plan.js';
import { bertPlan, type Plan, type ShardPlan } from './plan.js';

export interface PlannerInput {
  cost: CostModel;
  shape: LayerShape;
  layers: number;
  slices: number;
  seq: number;
  /** Bitwidths the store holds. */
  bits: number[];
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
  const worst = Math.max(...input.bits.map((b) => cost.decompressMs(b, input.bytesOf(0, 0, b))));
  return compute + m * worst;
}

/** Stage 1: candidate submodels, most compute first (ties: more layers), that fit the target; then the rest. */
export function submodelCandidates(input: PlannerInput): { layers: number; slices: number; fits: boolean }[] {
  const minN = input.minLayers ?? Math.max(1, Math.round(input.layers / 4));
  const minM = input.minSlices ?? Math.max(1, Math.round(input.slices / 4));
  const out: { layers: number; slices: number; work: number; fits: boolean }[] = [];
  for (let n = minN; n <= input.layers; n++)
    for (let m = minM; m <= input.slices; m++) {
      const t = layerTimeMs(input, m);
      out.push({
        layers: n,
        slices: m,
        work: n * computeLayer(input.cost, input.shape, m, input.seq).flops,
        fits: n * t <= input.targetMs,
      });
    }
  return out.sort((a, b) => Number(b.fits) - Number(a.fits) || b.work - a.work || b.layers - a.layers);
}

interface Budget {
  slack: number[];
}

/**
 * What a shard costs against the accumulated IO budget, ms: its IO when streamed, plus its decompression
 * when decompression is a stage of its own (a GPU computes while the CPU decompresses; preloaded shards are
 * stored compressed and decompress too). Adding the two stages' times bounds when a shard is ready from
 * above (ready_i = max(loaded_i, ready_i-1) + dec_i <= Σ io + Σ dec), so the budget stays additive and safe.
 * When the CPU computes, decompression is already in the layer time (layerTimeMs).
 */
export function budgetMs(input: PlannerInput, s: Pick<ShardPlan, 'layer' | 'slice' | 'bits' | 'preload'>): number {
  const bytes = input.bytesOf(s.layer, s.slice, s.bits);
  const io = s.preload ? 0 : input.cost.ioMs(bytes);
  return input.cost.settings.computeUnit === 'cpu' ? io : io + input.cost.decompressMs(s.bits, bytes);
}

/**
 * AIB slack per layer for the shards of a plan (see budgetMs). Layer k must start by T − (n − k)·T_layer to
 * finish in time; its shards, streamed after all earlier ones, must be in by then. When n·T_layer = T
 * this is STI's AIB(k) = k·T_layer − Σ_{j≤k} IO_j; a shorter submodel leaves the difference as slack.
 */
function budget(input: PlannerInput, shards: ShardPlan[], layers: number, tLayer: number): Budget {
  const io = new Array<number>(layers).fill(0);
  for (const s of shards) io[s.layer] += budgetMs(input, s);
  const slack: number[] = [];
  let sum = 0;
  for (let k = 0; k < layers; k++) {
    sum += io[k];
    slack.push(input.targetMs - (layers - k) * tLayer - sum);
  }
  return { slack };
}

const feasible = (b: Budget) => b.slack.every((x) => x >= -1e-9);

export interface StiOptions {
  /** Upgrade streamed shards in importance order (pass 2). Off for the sti-uniform ablation. */
  upgrade: boolean;
  /**
   * sti-plus: after pass 2, preloaded shards may move up too (re-preloaded at a higher rung, or streamed at
   * a higher rung where the budget has slack), and the buffer room that frees goes to streamed shards of
   * the earliest layers, whose saved IO funds another pass 2.
   */
  revisitPreload?: boolean;
  /**
   * Preload all of layer 0 first (STI's rule: with no slack, layer 0 has no IO budget). When false, layer 0
   * is treated like the other layers: spare-room preloading at the base bitwidth, earliest layers first.
   */
  layer0First?: boolean;
}

type Order = (a: ShardPlan, b: ShardPlan) => number;

/** Pass 2: in importance order, each streamed shard jumps to the highest rung every budget allows. */
function upgradeStreamed(input: PlannerInput, shards: ShardPlan[], n: number, tLayer: number, order: Order): void {
  const slack = budget(input, shards, n, tLayer).slack;
  const rungs = [...input.bits].sort((a, b) => b - a);
  for (const s of shards.filter((x) => !x.preload).sort(order)) {
    const headroom = Math.min(...slack.slice(s.layer));
    const current = budgetMs(input, s);
    const rung = rungs.find((b) => b > s.bits && budgetMs(input, { ...s, bits: b }) - current <= headroom + 1e-9);
    if (rung === undefined) continue;
    const delta = budgetMs(input, { ...s, bits: rung }) - current;
    s.bits = rung;
    for (let k = s.layer; k < n; k++) slack[k] -= delta;
  }
}

/** sti-plus (see StiOptions.revisitPreload); two rounds settle every case measured. */
function revisitPreload(input: PlannerInput, shards: ShardPlan[], n: number, tLayer: number, order: Order, room: number): void {
  const bytes = (s: ShardPlan, bits = s.bits) => input.bytesOf(s.layer, s.slice, bits);
  const rungs = [...input.bits].sort((a, b) => b - a);
  for (let round = 0; round < 2; round++) {
    const slack = budget(input, shards, n, tLayer).slack;
    for (const s of shards.filter((x) => x.preload).sort(order)) {
      const headroom = Math.min(...slack.slice(s.layer));
      const current = budgetMs(input, s);
      for (const b of rungs.filter((r) => r > s.bits)) {
        if (bytes(s, b) - bytes(s) <= room) {
          room -= bytes(s, b) - bytes(s);
          const delta = budgetMs(input, { ...s, bits: b }) - current;
          for (let k = s.layer; k < n; k++) slack[k] -= delta;
          s.bits = b;
          break;
        }
        const delta = budgetMs(input, { ...s, bits: b, preload: false }) - current;
        if (delta <= headroom + 1e-9) {
          room += bytes(s);
          for (let k = s.layer; k < n; k++) slack[k] -= delta;
          s.bits = b;
          s.preload = false;
          break;
        }
      }
    }
    for (const s of shards.filter((x) => !x.preload).sort((a, b) => a.layer - b.layer || order(a, b)))
      if (bytes(s) <= room) {
        room -= bytes(s);
        s.preload = true;
      }
    upgradeStreamed(input, shards, n, tLayer, order);
  }
}

/** Plans one submodel; returns undefined when 2-bit streaming already breaks the budget. */
function planSubmodel(input: PlannerInput, n: number, m: number, o: StiOptions): Plan | undefined {
  const tLayer = layerTimeMs(input, m);
  const quantized = input.bits.filter((b) => b !== 32).sort((a, b) => a - b);
  const lowest = quantized[0] ?? 32;
  const shards: ShardPlan[] = [];
  for (let l = 0; l < n; l++) for (let s = 0; s < m; s++) shards.push({ layer: l, slice: s, bits: lowest, preload: false });
  const score = (s: ShardPlan) => input.importance?.[s.layer]?.[s.slice] ?? 0;
  const byImportance = (a: ShardPlan, b: ShardPlan) => score(b) - score(a) || a.layer - b.layer || a.slice - b.slice;

  // Preload: layer 0 whole at the highest bitwidth that fits, then spare room to the earliest layers.
  let room = input.bufferBytes;
  const layer0 = o.layer0First === false ? [] : shards.filter((s) => s.layer === 0);
  const b0 = [...input.bits].sort((a, b) => b - a).find((b) => layer0.reduce((a, s) => a + input.bytesOf(0, s.slice, b), 0) <= room);
  for (const s of layer0) {
    const b = b0 ?? lowest;
    if (input.bytesOf(0, s.slice, b) > room) break;
    s.bits = b;
    s.preload = true;
    room -= input.bytesOf(0, s.slice, b);
  }
  // Pass 1: the highest uniform base bitwidth for the other shards that keeps every AIB >= 0, with the spare
  // buffer room holding the earliest layers' shards at that bitwidth, most important first. (Filling the room
  // before the base is known would pin those shards at 2 bits: preloaded shards keep their bitwidth.)
  const withBase = (bits: number) => {
    let left = room;
    const trial = shards.map((s) => (s.preload ? s : { ...s, bits }));
    for (let l = 0; l < n && left > 0; l++)
      for (const s of trial.filter((x) => x.layer === l && !x.preload).sort(byImportance)) {
        const bytes = input.bytesOf(l, s.slice, bits);
        if (bytes <= left) {
          s.preload = true;
          left -= bytes;
        }
      }
    return { trial, left };
  };
  const base = quantized
    .slice()
    .reverse()
    .map(withBase)
    .find((t) => feasible(budget(input, t.trial, n, tLayer)));
  if (!base) return undefined;
  shards.splice(0, shards.length, ...base.trial);
  room = base.left;
  // Pass 2: most important first, jump each shard to the highest rung every budget allows.
  if (o.upgrade) upgradeStreamed(input, shards, n, tLayer, byImportance);
  if (o.revisitPreload) revisitPreload(input, shards, n, tLayer, byImportance, room);
  return bertPlan('sti', n, m, shards);
}

export function planSti(input: PlannerInput, o: StiOptions = { upgrade: true }): PlanOutcome {
  const candidates = submodelCandidates(input);
  let plan: Plan | undefined;
  for (const c of candidates.filter((x) => x.fits)) {
    plan = planSubmodel(input, c.layers, c.slices, o);
    if (plan) break;
  }
  if (!plan) {
    // Nothing fits without stalling: the smallest submodel at the lowest bitwidth, and say by how much.
    const smallest = candidates.reduce((a, b) => (a.layers * a.slices <= b.layers * b.slices ? a : b));
    plan = planSubmodel(input, smallest.layers, smallest.slices, o) ?? lowestPlan(input, smallest.layers, smallest.slices);
  }
  return outcome(input, plan);
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
  const predicted = predictPlan({
    plan,
    cost: input.cost,
    shape: input.shape,
    seq: input.seq,
    bytesOf: (s) => input.bytesOf(s.layer, s.slice, s.bits),
  });
  return { plan, predicted, overshootMs: overshootMs(predicted.makespanUs / 1000, input.targetMs) };
}
