/**
 * What the planners look up about a shard again and again, computed once per planning request: its stored
 * bytes and its charge against the accumulated IO budget (sti.ts: budgetMs) at every bitwidth, each filled
 * on first use; and the shards' importance order. The planners then work on rung indices into `rungs`
 * (the store's bitwidths, highest first) instead of building shard objects.
 */
import type { CostModel } from '../../../soc/cost.js';

/** The inputs a table needs (a PlannerInput satisfies it). */
export interface ShardCostInput {
  cost: CostModel;
  layers: number;
  slices: number;
  bits: number[];
  bytesOf: (layer: number, slice: number, bits: number) => number;
  importance?: number[][];
}

/**
 * A shard's charge against the AIB, ms: its IO when streamed, plus its decompression when decompression is
 * a stage of its own (see budgetMs in sti.ts, which this defines).
 */
export function chargeMs(cost: CostModel, bits: number, bytes: number, preload: boolean): number {
  const io = preload ? 0 : cost.ioMs(bytes);
  return cost.settings.computeUnit === 'cpu' ? io : io + cost.decompressMs(bits, bytes);
}

export class ShardCosts {
  /** The bitwidths, highest first: a rung is an index into this. */
  readonly rungs: number[];
  /** The full grid's layers and slices per layer. */
  readonly layers: number;
  readonly slices: number;
  private readonly bytesAt: Float64Array;
  private readonly streamedAt: Float64Array;
  private readonly preloadedAt: Float64Array;
  private orderCache?: Int32Array;
  private layerOrderCache?: Int32Array;

  constructor(private readonly input: ShardCostInput) {
    this.rungs = [...input.bits].sort((a, b) => b - a);
    this.layers = input.layers;
    this.slices = input.slices;
    const size = input.layers * input.slices * this.rungs.length;
    this.bytesAt = new Float64Array(size).fill(NaN);
    this.streamedAt = new Float64Array(size).fill(NaN);
    this.preloadedAt = new Float64Array(size).fill(NaN);
  }

  private key(layer: number, slice: number, rung: number): number {
    return (layer * this.slices + slice) * this.rungs.length + rung;
  }

  bytes(layer: number, slice: number, rung: number): number {
    const k = this.key(layer, slice, rung);
    let v = this.bytesAt[k];
    if (Number.isNaN(v)) v = this.bytesAt[k] = this.input.bytesOf(layer, slice, this.rungs[rung]);
    return v;
  }

  /** The shard's charge against the AIB (budgetMs) at a rung, streamed or preloaded. */
  charge(layer: number, slice: number, rung: number, preload: boolean): number {
    const k = this.key(layer, slice, rung);
    const table = preload ? this.preloadedAt : this.streamedAt;
    let v = table[k];
    if (Number.isNaN(v)) v = table[k] = chargeMs(this.input.cost, this.rungs[rung], this.bytes(layer, slice, rung), preload);
    return v;
  }

  /**
   * Every shard of the full grid (layer · slices + slice), most important first; ties by layer, then
   * slice. Any submodel's importance order is this order with the shards outside it skipped.
   */
  get order(): Int32Array {
    this.orderCache ??= importanceOrder(this.input);
    return this.orderCache;
  }

  /** Each layer's slices, most important first (ties by slice): layer l's are at l · slices onwards. */
  get layerOrder(): Int32Array {
    if (this.layerOrderCache) return this.layerOrderCache;
    const out = new Int32Array(this.layers * this.slices);
    const counts = new Int32Array(this.layers);
    for (const g of this.order) {
      const l = Math.floor(g / this.slices);
      out[l * this.slices + counts[l]++] = g - l * this.slices;
    }
    this.layerOrderCache = out;
    return out;
  }
}

/**
 * Sorts by score descending, index ascending, with the engine's numeric sort: a shard's rank is where its
 * score first appears among all scores sorted, so equal scores (±0 too) share a rank and keep index order.
 */
function importanceOrder({ layers, slices, importance }: ShardCostInput): Int32Array {
  const score = new Float64Array(layers * slices);
  for (let l = 0; l < layers; l++) for (let s = 0; s < slices; s++) score[l * slices + s] = (importance?.[l]?.[s] ?? 0) + 0;
  const sorted = Float64Array.from(score).sort().reverse();
  const taken = new Int32Array(score.length);
  const order = new Int32Array(score.length);
  for (let i = 0; i < score.length; i++) {
    const rank = firstIndexOf(sorted, score[i]);
    order[rank + taken[rank]++] = i;
  }
  return order;
}

/** The first position of x in xs, sorted descending (binary search). */
function firstIndexOf(xs: Float64Array, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] > x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
