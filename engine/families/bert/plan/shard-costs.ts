/**
 * What the planners look up about a shard again and again: its stored bytes, IO and decompression times and
 * its charge against the accumulated IO budget (sti.ts: budgetMs) at every bitwidth, filled on first use,
 * with per-layer prefix sums of them; the compute lane's time per layer for every slice count; and the
 * shards' importance order. The planners then work on rung indices into `rungs` (the store's bitwidths,
 * highest first) instead of building shard objects.
 *
 * A request is planned again and again with the same cost model, store and importance profile (a sweep's
 * targets and buffers, sti-plus's two passes, the bench's rounds), so the tables outlive a request. Bytes,
 * times and charges are kept per cost model and bytesOf function, both taken to be pure (a CostModel's
 * fields are read-only; a new store or cost model is a new key, and request.ts gives each store one
 * bytesOf). The importance order is kept by the grid's values, compared on every request, so a grid read
 * again is not ranked again and a grid changed in place is.
 */
import type { CostModel } from '../../../soc/cost.js';
import { computeLayer, type LayerShape } from '../cost.js';

export type BytesOf = (layer: number, slice: number, bits: number) => number;

/** The inputs a table needs (a PlannerInput satisfies it). */
export interface ShardCostInput {
  cost: CostModel;
  shape: LayerShape;
  seq: number;
  layers: number;
  slices: number;
  bits: number[];
  bytesOf: BytesOf;
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

/** The compute lane's time per layer and its FLOPs, for every slice count m (index m). */
export interface LayerTimes {
  timeMs: Float64Array;
  flops: Float64Array;
}

/**
 * Bytes, IO, decompression and charges of every shard at every rung under one cost model, bytesOf and set of
 * bitwidths, indexed (layer · stride + slice) · rungs + rung; a shard's row of rungs is filled when it is
 * first looked up. The grid grows when a request has more layers or slices.
 */
class CostTables {
  readonly rungs: number[];
  stride = 0;
  private layers = 0;
  private filled = new Uint8Array(0);
  bytesAt = new Float64Array(0);
  ioAt = new Float64Array(0);
  private decompressAt = new Float64Array(0);
  streamedAt = new Float64Array(0);
  preloadedAt = new Float64Array(0);
  private readonly layerTimes = new Map<string, LayerTimes>();
  /**
   * Per layer and rung, over the layer's first m slices: their bytes and streamed charges summed in slice
   * order, and the fewest bytes of one; at (layer · rungs + rung) · (stride + 1) + m, known for m up to
   * prefixKnown[layer].
   */
  bytesSums = new Float64Array(0);
  streamedSums = new Float64Array(0);
  leastBytes = new Float64Array(0);
  private prefixKnown = new Int32Array(0);

  constructor(
    private readonly cost: CostModel,
    private readonly bytesOf: BytesOf,
    readonly bits: readonly number[],
  ) {
    this.rungs = [...bits].sort((a, b) => b - a);
  }

  /** Makes room for a layers × slices grid (what was filled is dropped when it grows). */
  fit(layers: number, slices: number): void {
    if (layers <= this.layers && slices <= this.stride) return;
    this.layers = Math.max(layers, this.layers);
    this.stride = Math.max(slices, this.stride);
    const size = this.layers * this.stride * this.rungs.length;
    this.filled = new Uint8Array(this.layers * this.stride);
    for (const t of ['bytesAt', 'ioAt', 'decompressAt', 'streamedAt', 'preloadedAt'] as const) this[t] = new Float64Array(size);
    const prefixes = this.layers * this.rungs.length * (this.stride + 1);
    for (const t of ['bytesSums', 'streamedSums', 'leastBytes'] as const) this[t] = new Float64Array(prefixes);
    this.prefixKnown = new Int32Array(this.layers);
  }

  /** Where the layer's prefixes start (see bytesSums), known for its first m slices at least. */
  prefix(layer: number, m: number): number {
    const { rungs, stride } = this;
    const at = layer * rungs.length * (stride + 1);
    for (let s = this.prefixKnown[layer]; s < m; s++) {
      const row = this.row(layer, s);
      for (let r = 0, k = at + s; r < rungs.length; r++, k += stride + 1) {
        if (s === 0) this.leastBytes[k] = Infinity;
        this.bytesSums[k + 1] = this.bytesSums[k] + this.bytesAt[row + r];
        this.streamedSums[k + 1] = this.streamedSums[k] + this.streamedAt[row + r];
        this.leastBytes[k + 1] = Math.min(this.leastBytes[k], this.bytesAt[row + r]);
      }
      this.prefixKnown[layer] = s + 1;
    }
    return at;
  }

  /** The index of the shard's lowest rung (its row), the row filled. */
  row(layer: number, slice: number): number {
    const shard = layer * this.stride + slice;
    if (!this.filled[shard]) this.fill(shard, layer, slice);
    return shard * this.rungs.length;
  }

  private fill(shard: number, layer: number, slice: number): void {
    const { cost, rungs } = this;
    const cpu = cost.settings.computeUnit === 'cpu';
    for (let r = 0, k = shard * rungs.length; r < rungs.length; r++, k++) {
      const bytes = (this.bytesAt[k] = this.bytesOf(layer, slice, rungs[r]));
      const io = (this.ioAt[k] = cost.ioMs(bytes));
      // When the CPU computes, decompression is no charge: only a plan's timeline asks for it (decompressMs).
      const decompress = (this.decompressAt[k] = cpu ? NaN : cost.decompressMs(rungs[r], bytes));
      // chargeMs's arithmetic, streamed and preloaded.
      this.streamedAt[k] = cpu ? io : io + decompress;
      this.preloadedAt[k] = cpu ? 0 : 0 + decompress;
    }
    this.filled[shard] = 1;
  }

  /** The decompression time at index k (a row's index plus a rung) of a filled row. */
  decompressMs(k: number, rung: number): number {
    let v = this.decompressAt[k];
    if (v !== v) v = this.decompressAt[k] = this.cost.decompressMs(this.rungs[rung], this.bytesAt[k]); // NaN: not yet
    return v;
  }

  /** Layer times for m = 0..slices (see layerTimeMs in sti.ts, which this computes). */
  times(shape: LayerShape, seq: number, slices: number): LayerTimes {
    const key = `${shape.hidden} ${shape.heads} ${shape.headDim} ${shape.ffnPerSlice} ${seq}`;
    const known = this.layerTimes.get(key);
    if (known && known.timeMs.length > slices) return known;
    const { cost } = this;
    const cpu = cost.settings.computeUnit === 'cpu';
    const worst = cpu ? Math.max(...this.bits.map((b) => cost.decompressMs(b, this.bytesOf(0, 0, b)))) : 0;
    const t: LayerTimes = { timeMs: new Float64Array(slices + 1), flops: new Float64Array(slices + 1) };
    for (let m = 1; m <= slices; m++) {
      const c = computeLayer(cost, shape, m, seq);
      t.timeMs[m] = cpu ? c.totalMs + m * worst : c.totalMs;
      t.flops[m] = c.flops;
    }
    this.layerTimes.set(key, t);
    return t;
  }
}

/** The shards of a layers × slices grid (layer · slices + slice) by importance, and the scores it was made from. */
interface Ranking {
  layers: number;
  slices: number;
  scores: Float64Array;
  order: Int32Array;
  layerOrder: Int32Array;
}

const tablesByCost = new WeakMap<CostModel, WeakMap<BytesOf, CostTables[]>>();

function tablesFor({ cost, bytesOf, bits }: ShardCostInput): CostTables {
  let byBytes = tablesByCost.get(cost);
  if (!byBytes) tablesByCost.set(cost, (byBytes = new WeakMap()));
  let list = byBytes.get(bytesOf);
  if (!list) byBytes.set(bytesOf, (list = []));
  let t = list.find((x) => sameBits(x.bits, bits));
  if (!t) list.push((t = new CostTables(cost, bytesOf, [...bits])));
  return t;
}

function sameBits(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The importance score of every shard of the grid, as the order ranks it (±0 alike, missing as 0). */
function scoresOf({ layers, slices, importance }: ShardCostInput): Float64Array {
  const score = new Float64Array(layers * slices);
  for (let l = 0; l < layers; l++) for (let s = 0; s < slices; s++) score[l * slices + s] = (importance?.[l]?.[s] ?? 0) + 0;
  return score;
}

/** Whether the grid's scores are still `scores` (a NaN score matches itself). */
function sameScores(r: Ranking, importance: number[][] | undefined): boolean {
  const { layers, slices, scores } = r;
  for (let l = 0; l < layers; l++) {
    const row = importance?.[l];
    // Read within the row only: a read past its end (undefined) made V8 box every score it compared.
    const within = row ? Math.min(row.length, slices) : 0;
    for (let s = 0, k = l * slices; s < slices; s++, k++) {
      const x = s < within ? (row![s] ?? 0) : 0;
      if (x !== scores[k] && !(x !== x && scores[k] !== scores[k])) return false;
    }
  }
  return true;
}

/**
 * The last rankings made, most recent first, found by their grid's size and scores: a profile read again for
 * every request (the workbench reads it from the experiment store per query) is a new grid with the same
 * scores, and a grid changed in place has new ones, so it is ranked again. Comparing scores costs far less
 * than ranking.
 */
const rankings: Ranking[] = [];
/** Grids ranked (the models' profiles, and sti-plus's submodels of them). */
const RANKINGS_KEPT = 8;

function rankingFor(input: ShardCostInput): Ranking {
  const at = rankings.findIndex((r) => r.layers === input.layers && r.slices === input.slices && sameScores(r, input.importance));
  if (at === 0) return rankings[0];
  if (at < 0) {
    const made = rank(input);
    if (rankings.unshift(made) > RANKINGS_KEPT) rankings.pop();
    return made;
  }
  const found = rankings[at];
  rankings.copyWithin(1, 0, at);
  rankings[0] = found;
  return found;
}

function rank(input: ShardCostInput): Ranking {
  const scores = scoresOf(input);
  const order = importanceOrder(scores);
  return { layers: input.layers, slices: input.slices, scores, order, layerOrder: layerOrderOf(order, input.layers, input.slices) };
}

/** One request's view of the shared tables: its grid, its cost model's bytes and charges, its importance order. */
export class ShardCosts {
  /** The bitwidths, highest first: a rung is an index into this. */
  readonly rungs: number[];
  /** The full grid's layers and slices per layer. */
  readonly layers: number;
  readonly slices: number;
  /** Layer times and FLOPs per slice count. */
  readonly layerTimes: LayerTimes;
  /** Each shard's stored bytes, IO and charges (streamed, preloaded) at index row(layer, slice) + rung. */
  readonly bytesAt: Float64Array;
  readonly ioAt: Float64Array;
  readonly streamedAt: Float64Array;
  readonly preloadedAt: Float64Array;
  private readonly tables: CostTables;
  private readonly ranking: Ranking;

  constructor(input: ShardCostInput) {
    const t = (this.tables = tablesFor(input));
    t.fit(input.layers, input.slices);
    this.rungs = t.rungs;
    this.layers = input.layers;
    this.slices = input.slices;
    this.layerTimes = t.times(input.shape, input.seq, input.slices);
    this.ranking = rankingFor(input);
    ({ bytesAt: this.bytesAt, ioAt: this.ioAt } = t);
    ({ streamedAt: this.streamedAt, preloadedAt: this.preloadedAt } = t);
  }

  /** The shard's decompression time at a rung, its row filled (see row). */
  decompressMs(row: number, rung: number): number {
    return this.tables.decompressMs(row + rung, rung);
  }

  /** Where the shard's rungs start in the tables (filled on first use). */
  row(layer: number, slice: number): number {
    return this.tables.row(layer, slice);
  }

  bytes(layer: number, slice: number, rung: number): number {
    return this.bytesAt[this.tables.row(layer, slice) + rung];
  }

  /** The bytes of the layer's first m slices at a rung, summed in slice order. */
  layerBytes(layer: number, m: number, rung: number): number {
    return this.tables.bytesSums[this.tables.prefix(layer, m) + rung * (this.tables.stride + 1) + m];
  }

  /** The charge of the layer's first m slices at a rung, all streamed, summed in slice order. */
  layerStreamed(layer: number, m: number, rung: number): number {
    return this.tables.streamedSums[this.tables.prefix(layer, m) + rung * (this.tables.stride + 1) + m];
  }

  /** The fewest bytes of one of the layer's first m slices at a rung. */
  leastBytes(layer: number, m: number, rung: number): number {
    return this.tables.leastBytes[this.tables.prefix(layer, m) + rung * (this.tables.stride + 1) + m];
  }

  /** The shard's charge against the AIB (budgetMs) at a rung, streamed or preloaded. */
  charge(layer: number, slice: number, rung: number, preload: boolean): number {
    return (preload ? this.preloadedAt : this.streamedAt)[this.tables.row(layer, slice) + rung];
  }

  /**
   * Every shard of the full grid (layer · slices + slice), most important first; ties by layer, then
   * slice. Any submodel's importance order is this order with the shards outside it skipped.
   */
  get order(): Int32Array {
    return this.ranking.order;
  }

  /** Each layer's slices, most important first (ties by slice): layer l's are at l · slices onwards. */
  get layerOrder(): Int32Array {
    return this.ranking.layerOrder;
  }
}

function layerOrderOf(order: Int32Array, layers: number, slices: number): Int32Array {
  const out = new Int32Array(layers * slices);
  const counts = new Int32Array(layers);
  for (let i = 0; i < order.length; i++) {
    const l = Math.floor(order[i] / slices);
    out[l * slices + counts[l]++] = order[i] - l * slices;
  }
  return out;
}

/**
 * Sorts by score descending, index ascending, with the engine's numeric sort: a shard's rank is where its
 * score first appears among all scores sorted, so equal scores (±0 too) share a rank and keep index order.
 */
function importanceOrder(score: Float64Array): Int32Array {
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
